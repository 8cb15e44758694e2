# --- naming and tags ---
variable "name" {
  type        = string
  description = "Name prefix for the user pool, its client and groups."

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$", var.name))
    error_message = "name must be 1-64 letters, digits, '-' or '_', starting with a letter or digit."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource."
  default     = {}
}

# --- hosted UI and OAuth client ---
variable "domain_prefix" {
  type        = string
  description = "Hosted UI domain prefix (<prefix>.auth.<region>.amazoncognito.com); globally unique per region. Null derives one from the name and the account id."
  default     = null

  validation {
    condition     = var.domain_prefix == null || (can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix)) && !can(regex("aws|amazon|cognito", var.domain_prefix)))
    error_message = "domain_prefix must be lowercase letters, digits and hyphens, 1-63 characters, not starting or ending with a hyphen (and must not contain 'aws', 'amazon' or 'cognito')."
  }
}

variable "callback_urls" {
  type        = list(string)
  description = "Where the hosted UI may send the browser back with the authorization code (the web page's URL)."

  validation {
    condition     = length(var.callback_urls) > 0 && alltrue([for u in var.callback_urls : can(regex("^(https://|http://localhost(:[0-9]+)?/?)", u))])
    error_message = "callback_urls needs at least one URL; each must use https, or http://localhost for local development."
  }
}

variable "logout_urls" {
  type        = list(string)
  description = "Where the hosted UI may send the browser after sign-out."

  validation {
    condition     = alltrue([for u in var.logout_urls : can(regex("^(https://|http://localhost(:[0-9]+)?/?)", u))])
    error_message = "Each logout URL must use https, or http://localhost for local development."
  }
}

variable "access_token_validity_minutes" {
  type        = number
  description = "Lifetime of access and ID tokens, in minutes (5-1440)."
  default     = 60

  validation {
    condition     = var.access_token_validity_minutes >= 5 && var.access_token_validity_minutes <= 1440
    error_message = "access_token_validity_minutes must be between 5 and 1440."
  }
}

variable "refresh_token_validity_days" {
  type        = number
  description = "Lifetime of refresh tokens, in days (1-3650)."
  default     = 30

  validation {
    condition     = var.refresh_token_validity_days >= 1 && var.refresh_token_validity_days <= 3650
    error_message = "refresh_token_validity_days must be between 1 and 3650."
  }
}

# --- the API's resource server and scope (access tokens carry it) ---
variable "resource_server_identifier" {
  type        = string
  description = "Identifier of the resource server for the API; scopes are <identifier>/<scope>."
  default     = "agentarch-api"
}

variable "api_scope_name" {
  type        = string
  description = "Name of the scope the API methods require (access tokens with <identifier>/<scope>)."
  default     = "chat"
}

variable "additional_scopes" {
  type        = map(string)
  description = "Further scopes on the resource server, name => description (e.g. { admin = \"Manage the assistant\" }); the web client may request them and routes may require them."
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.additional_scopes) : can(regex("^[A-Za-z0-9_.-]{1,256}$", name))])
    error_message = "Scope names must be 1-256 letters, digits, '_', '.' or '-'."
  }
}

variable "create_resource_server" {
  type        = bool
  description = "Create the resource server and its scopes; false when resource_server_identifier already exists on the pool with these scopes."
  default     = true
}

# --- adopting what a platform team already has ---
variable "existing_user_pool" {
  type = object({
    id     = string
    arn    = string
    domain = optional(string)
  })
  description = "Use this user pool instead of creating one: id, arn and, if it has one, its hosted UI domain (a prefix, or a full custom domain). Without a domain one is created from domain_prefix. Pool settings (MFA, passwords, sign-up) are then the pool owner's."
  default     = null

  validation {
    condition     = var.existing_user_pool == null || (can(regex("^[\\w-]+_[0-9a-zA-Z]+$", var.existing_user_pool.id)) && can(regex("^arn:aws[a-z-]*:cognito-idp:", var.existing_user_pool.arn)))
    error_message = "existing_user_pool needs an id like us-east-1_AbCdEf123 and a cognito-idp ARN."
  }
}

variable "existing_client_id" {
  type        = string
  description = "Use this app client instead of creating the web client; it must allow the code flow with PKCE, no secret, and the API scopes."
  default     = null
}

# --- users ---
variable "self_sign_up_enabled" {
  type        = bool
  description = "Let anyone create an account from the hosted UI; false means administrators create users."
  default     = false
}

variable "mfa_configuration" {
  type        = string
  description = "Multi-factor authentication. One of OFF, OPTIONAL, ON (TOTP apps)."
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be one of OFF, OPTIONAL, ON."
  }
}

variable "password_minimum_length" {
  type        = number
  description = "Minimum password length (8-99)."
  default     = 12

  validation {
    condition     = var.password_minimum_length >= 8 && var.password_minimum_length <= 99
    error_message = "password_minimum_length must be between 8 and 99."
  }
}

variable "groups" {
  type = map(object({
    description = string
    precedence  = number
  }))
  description = "Cognito groups; their names reach the Lambdas in the cognito:groups claim. The defaults include the groups agentarch's default tool policy names: weather (the weather tool) and support (create_ticket)."
  default = {
    admins  = { description = "Administrators of the assistant", precedence = 1 }
    users   = { description = "Regular users", precedence = 10 }
    weather = { description = "May use the weather tool (agentarch's default tool policy)", precedence = 20 }
    support = { description = "May open support tickets with create_ticket (agentarch's default tool policy)", precedence = 30 }
  }

  validation {
    # Cognito's rule (no white space), less what the REST authorizer's flattened cognito:groups claim
    # cannot carry: a comma or a bracket would let one group's name read as another's.
    condition     = alltrue([for name in keys(var.groups) : can(regex("^[^\\s,\\[\\]]{1,128}$", name))])
    error_message = "Each group name must be 1-128 characters with no white space, commas or brackets (agentarch reads the cognito:groups claim by name)."
  }
}

variable "audit_admin_group" {
  type        = string
  description = "Cognito group whose members may read the audit trail (the audit Lambda's AUDIT_ADMIN_GROUP), created here; null (the default) creates none: only pattern 3 has an audit route, and an existing pool may have the group already. Keep it out of groups."
  default     = null

  validation {
    condition     = var.audit_admin_group == null || can(regex("^[^\\s,\\[\\]]{1,128}$", var.audit_admin_group))
    error_message = "audit_admin_group must be 1-128 characters with no white space, commas or brackets (Cognito's rule, and what the cognito:groups claim can carry)."
  }
}

# --- the evaluation client (agentarch eval --against a deployed stack) ---
variable "eval_client_enabled" {
  type        = bool
  description = "Create a dedicated public app client for `agentarch eval` (USER_SRP_AUTH and refresh only, no OAuth flow, short-lived tokens) and put the pre token generation trigger (event V2_0) on the pool, which adds the API scopes to that client's access tokens only. Needs pre_token_generation_function_name, a pool this module creates, and the Essentials or Plus feature plan (set here unless user_pool_tier says otherwise). Off by default."
  default     = false
}

variable "pre_token_generation_function_name" {
  type        = string
  description = "With eval_client_enabled: name of the trigger Lambda (agentarch.handlers.eval_scopes) in this account and region. The module builds its ARN from the name, so the pool does not wait for the function, which reads the eval client's id (a cycle otherwise). Grant cognito-idp.amazonaws.com lambda:InvokeFunction on it with user_pool_arn as the source ARN."
  default     = null

  validation {
    condition     = var.pre_token_generation_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.pre_token_generation_function_name, "x")))
    error_message = "pre_token_generation_function_name must be a Lambda function name: 1-64 letters, digits, '-' or '_'."
  }
}

variable "eval_token_validity_minutes" {
  type        = number
  description = "Lifetime of the eval client's access and ID tokens, in minutes (5-60); its refresh tokens last one day."
  default     = 15

  validation {
    condition     = var.eval_token_validity_minutes >= 5 && var.eval_token_validity_minutes <= 60
    error_message = "eval_token_validity_minutes must be between 5 and 60."
  }
}

variable "user_pool_tier" {
  type        = string
  description = "Feature plan of the pool this module creates: LITE, ESSENTIALS or PLUS. Null keeps Cognito's default, or ESSENTIALS when eval_client_enabled (a V2_0 pre token generation trigger needs Essentials or Plus)."
  default     = null

  validation {
    condition     = var.user_pool_tier == null || contains(["LITE", "ESSENTIALS", "PLUS"], coalesce(var.user_pool_tier, "LITE"))
    error_message = "user_pool_tier must be one of LITE, ESSENTIALS, PLUS (or null)."
  }
}

variable "deletion_protection" {
  type        = string
  description = "Protect the user pool from deletion. One of ACTIVE, INACTIVE."
  default     = "ACTIVE"

  validation {
    condition     = contains(["ACTIVE", "INACTIVE"], var.deletion_protection)
    error_message = "deletion_protection must be one of ACTIVE, INACTIVE."
  }
}
