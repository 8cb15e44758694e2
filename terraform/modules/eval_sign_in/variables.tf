# --- naming and tags ---
variable "function_name" {
  type        = string
  description = "Name of the trigger Lambda: the very name given to the identity module's pre_token_generation_function_name (the pool names the function, it does not refer to it: the function reads the eval client's id, a cycle otherwise)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, '-' or '_'."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every taggable resource."
  default     = {}
}

# --- code ---
variable "artifact_path" {
  type        = string
  description = "Path of eval_scopes.zip (built by `agentarch build` into lambda_build/dist/)."

  validation {
    condition     = endswith(var.artifact_path, "eval_scopes.zip")
    error_message = "artifact_path must be the eval_scopes.zip `agentarch build` writes."
  }
}

variable "powertools_layer_version" {
  type        = number
  description = "Version N of the public layer AWSLambdaPowertoolsPythonV3-<python>-<arch>:N; null adds no Powertools layer."
  default     = null
}

# --- the pool and its eval client (identity module outputs) ---
variable "user_pool_arn" {
  type        = string
  description = "ARN of the user pool whose pre token generation trigger this is (identity's user_pool_arn): only Cognito, from this pool, may invoke the function."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/.+$", var.user_pool_arn))
    error_message = "user_pool_arn must be a user pool ARN: arn:aws:cognito-idp:<region>:<account>:userpool/<id>."
  }
}

variable "eval_client_id" {
  type        = string
  description = "ID of the eval app client (identity's eval_client_id): the only client whose access tokens the trigger changes."
}

variable "api_scopes" {
  type        = list(string)
  description = "The API's scopes (identity's api_scopes) the trigger adds to the eval client's access tokens."

  validation {
    condition     = length(var.api_scopes) > 0
    error_message = "api_scopes must name at least one scope."
  }
}
