# --- naming and tags ---
variable "name" {
  type        = string
  description = "Name prefix of the locks table (the table is `<name>-locks`)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,200}$", var.name))
    error_message = "name must be 3-200 letters, digits, '_', '-' or '.'."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the table."
  default     = {}
}

# --- protection ---
variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the table until this is switched off (set false for a throwaway demo)."
  default     = true
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Continuous backups with point-in-time recovery."
  default     = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the table; null uses the AWS owned key."
  default     = null
}
