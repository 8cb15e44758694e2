# --- naming and tags ---
variable "name" {
  type        = string
  description = "Name prefix of the tables, the budget, the topic and the alarm."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,200}$", var.name))
    error_message = "name must be 3-200 letters, digits, '_', '-' or '.'."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource."
  default     = {}
}

# --- per-user quotas (CHAT_QUOTAS) ---
variable "chat_quotas" {
  type = object({
    default = object({ requests_per_day = number, tokens_per_day = number })
    groups  = optional(map(object({ requests_per_day = number, tokens_per_day = number })), {})
  })
  description = "Each user's daily limits (UTC days): chat requests and model tokens. `default` applies to a user in no listed Cognito group; a user in several groups gets, per limit, the most generous. The chat Lambda reads it as CHAT_QUOTAS."
  default = {
    default = { requests_per_day = 200, tokens_per_day = 400000 }
  }

  validation {
    condition = alltrue([
      for limits in concat([var.chat_quotas.default], values(var.chat_quotas.groups)) :
      limits.requests_per_day >= 0 && limits.requests_per_day <= 1000000 && floor(limits.requests_per_day) == limits.requests_per_day &&
      limits.tokens_per_day >= 0 && limits.tokens_per_day <= 10000000000 && floor(limits.tokens_per_day) == limits.tokens_per_day
    ])
    error_message = "chat_quotas limits must be whole numbers: requests_per_day 0-1000000, tokens_per_day 0-10000000000."
  }
}

# --- protection ---
variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the tables until this is switched off (set false for a throwaway demo)."
  default     = true
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Continuous backups with point-in-time recovery."
  default     = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the tables; null uses the AWS owned key."
  default     = null
}

# --- caps on the whole bill ---
variable "monthly_budget_usd" {
  type        = number
  description = "An AWS Budgets monthly cost budget, <name>-<region>-monthly, in USD: alerts_topic notified at 80 % of actual and 100 % of forecast spend. What it counts is budget_scope. null creates none. Budgets only alert; the quotas and the reserved concurrency are what stop spending."
  default     = null

  validation {
    condition     = var.monthly_budget_usd == null || try(var.monthly_budget_usd > 0, false)
    error_message = "monthly_budget_usd must be a positive amount in USD, or null for no budget."
  }
}

variable "budget_scope" {
  type        = string
  description = "What the budget counts. \"stack\" (default): the costs tagged <cost_allocation_tag_key> = <name>, so several stacks in one account each watch their own; the tag must be activated as a cost allocation tag in the payer account (it counts from activation on), and Bedrock model tokens carry it only when the model is called through an application inference profile with the tag. \"account\": every cost of the account; make one such budget per account, not one per stack."
  default     = "stack"

  validation {
    condition     = contains(["stack", "account"], var.budget_scope)
    error_message = "budget_scope must be \"stack\" (the stack's tagged costs) or \"account\" (the whole account)."
  }
}

variable "cost_allocation_tag_key" {
  type        = string
  description = "The tag whose value is the stack's name on every resource (set it in the provider's default_tags and in tags): the budget with budget_scope = \"stack\" counts what carries it."
  default     = "agentarch-stack"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:/=+@ -]{1,128}$", var.cost_allocation_tag_key)) && !startswith(var.cost_allocation_tag_key, "aws:")
    error_message = "cost_allocation_tag_key must be a user tag key (1-128 letters, digits, spaces or _.:/=+-@, not starting with aws:)."
  }
}

variable "hourly_token_alarm_threshold" {
  type        = number
  description = "A CloudWatch alarm when the agent's model (AWS/Bedrock InputTokenCount + OutputTokenCount of bedrock_model_id) uses more tokens than this in an hour; it notifies the alerts topic. The metrics are per account, region and model id: every stack and caller of the same model in the region counts, so set it in one stack per model. null creates none."
  default     = null

  validation {
    condition     = var.hourly_token_alarm_threshold == null || try(var.hourly_token_alarm_threshold > 0, false)
    error_message = "hourly_token_alarm_threshold must be a positive number of tokens, or null for no alarm."
  }
}

variable "bedrock_model_id" {
  type        = string
  description = "The model or inference profile id whose token metrics the alarm watches (the ModelId dimension)."
  default     = null

  validation {
    condition     = var.bedrock_model_id == null || try(length(var.bedrock_model_id) > 0, false)
    error_message = "bedrock_model_id must be a model or inference profile id, or null."
  }
}

variable "alert_emails" {
  type        = list(string)
  description = "Who the alerts topic e-mails (the budget, the token alarm, the operational alarms): each address confirms its SNS subscription once. The budget notifies the topic, so any number of addresses works (Budgets alone takes 10). Empty creates no topic."
  default     = []

  validation {
    condition     = alltrue([for email in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", email))])
    error_message = "alert_emails must be e-mail addresses."
  }
}
