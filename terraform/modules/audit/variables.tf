# --- naming and tags ---
variable "name" {
  type        = string
  description = "Name prefix of the table (<name>-audit) and the key's description."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,200}$", var.name))
    error_message = "name must be 3-200 letters, digits, '_', '-' or '.'."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the table and the key."
  default     = {}
}

# --- retention ---
variable "retention_days" {
  type        = number
  description = "Days a session's audit records are kept, counted from its first record (DynamoDB TTL; the writers' AUDIT_RETENTION_DAYS). null keeps them forever."
  default     = 400

  validation {
    condition     = var.retention_days == null || (floor(coalesce(var.retention_days, 0)) == coalesce(var.retention_days, 0) && coalesce(var.retention_days, 0) >= 1 && coalesce(var.retention_days, 0) <= 3650)
    error_message = "retention_days must be a whole number of days from 1 to 3650, or null."
  }
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

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, or null."
  }
}

variable "key_deletion_window_days" {
  type        = number
  description = "Days KMS waits before deleting the HMAC key after it is scheduled for deletion (7-30)."
  default     = 30

  validation {
    condition     = var.key_deletion_window_days >= 7 && var.key_deletion_window_days <= 30
    error_message = "key_deletion_window_days must be 7 to 30."
  }
}

# --- the notary (notary.tf) ---
variable "checkpoint_retention_days" {
  type        = number
  description = "Days Object Lock keeps each checkpoint (every version) before it may be deleted. Keep it at least retention_days."
  default     = 400

  validation {
    condition     = floor(var.checkpoint_retention_days) == var.checkpoint_retention_days && var.checkpoint_retention_days >= 1 && var.checkpoint_retention_days <= 36500
    error_message = "checkpoint_retention_days must be a whole number of days from 1 to 36500."
  }
}

variable "checkpoint_retention_mode" {
  type        = string
  description = "Object Lock mode of the checkpoints: GOVERNANCE (default: principals with s3:BypassGovernanceRetention may delete early, so a demo can be torn down) or COMPLIANCE (nobody, not even the root user, until retention ends)."
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.checkpoint_retention_mode)
    error_message = "checkpoint_retention_mode must be GOVERNANCE or COMPLIANCE."
  }
}
