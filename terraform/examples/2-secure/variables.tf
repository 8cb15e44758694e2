variable "region" {
  type        = string
  description = "AWS region (AgentCore Runtime and the Bedrock model must be available there)."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Name prefix of every resource (lowercase letters, digits, hyphens; AgentCore names use '_' for '-')."
  default     = "agentarch-p2"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,23}$", var.name))
    error_message = "name must be 3-24 lowercase letters, digits or hyphens, starting with a letter: the longest derived names (<name>-conversations, <name>_memory) must fit their services' limits."
  }
}

variable "web_origin" {
  type        = string
  description = "Origin the web page is served from (scheme://host[:port]); Cognito redirects back to <origin>/ and CORS allows it."
  default     = "http://localhost:8000"
}

variable "bedrock_model_id" {
  type        = string
  description = "Bedrock model or cross-region inference profile the agent uses (enable access to it in the Bedrock console first)."
  default     = "us.amazon.nova-lite-v1:0"
}

variable "artifacts_dir" {
  type        = string
  description = "Directory holding the zips `agentarch build` writes; null means lambda_build/dist of this repository."
  default     = null
}

variable "api_gateway_logging" {
  type        = bool
  description = "API Gateway access and execution logs. They need the account's CloudWatch Logs role: apply terraform/examples/account-logging once per account and region first (see ../README.md), then set true."
  default     = false
}

variable "log_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key (ARN, rotation on) for the API's access and WAF log groups; its key policy must allow logs.<region>.amazonaws.com (modules/front_door README). null uses CloudWatch Logs' AWS managed encryption."
  default     = null
}

variable "powertools_layer_version" {
  type        = number
  description = "Version N of the public Powertools layer AWSLambdaPowertoolsPythonV3-python313-arm64:N (aws ssm get-parameter --name /aws/service/powertools/python/arm64/python3.13/latest)."
}

variable "policy_mode" {
  type        = string
  description = "Tool policy mode of the agent: ENFORCE refuses the tool calls its Cedar policy denies, LOG_ONLY records the decision and lets them run."
  default     = "ENFORCE"
}

# --- what a user, and everyone together, may spend ---
variable "chat_reserved_concurrency" {
  type        = number
  description = "The most chat Lambdas (so agent turns) running at once, for all users together; past it API Gateway answers 503 service_unavailable (retry) and nothing is billed. -1 (the default) reserves none, because a new account's concurrency quota of 10 cannot reserve any (Lambda keeps 100 unreserved; the plan checks the quota and refuses a reservation it cannot hold). With -1 the caps are the API stage's throttling (10 requests/s, burst 20), each user's daily quota, and on a new account its quota of 10 concurrent executions for every function together. At 10 reserved, flat out (about 5 s a turn) that is about 7,000 turns an hour: with Nova Lite at about 2,500 tokens a turn, roughly $1.50 an hour of model tokens plus about $1 of AgentCore Runtime."
  default     = -1
}

variable "chat_quotas" {
  type = object({
    default = object({ requests_per_day = number, tokens_per_day = number })
    groups  = optional(map(object({ requests_per_day = number, tokens_per_day = number })), {})
  })
  description = "Each user's daily chat requests and model tokens (UTC days), per Cognito group; see modules/spend_limits."
  default = {
    default = { requests_per_day = 200, tokens_per_day = 400000 }
  }
}

variable "monthly_budget_usd" {
  type        = number
  description = "An AWS Budgets monthly cost budget (<name>-<region>-monthly) over what budget_scope says, notifying alert_emails through the alerts topic; null for none."
  default     = null
}

variable "budget_scope" {
  type        = string
  description = "What the budget counts: \"stack\" the costs tagged agentarch-stack = <name> (activate that cost allocation tag once in the payer account; model tokens are not tagged), \"account\" the whole account (one such budget per account). See modules/spend_limits."
  default     = "stack"
}

variable "hourly_token_alarm_threshold" {
  type        = number
  description = "Alarm (e-mailed to alert_emails) when the model uses more tokens than this in an hour, counted for the model id across the account and region (every stack on that model); null for none."
  default     = null
}

variable "alert_emails" {
  type        = list(string)
  description = "Who the alerts topic e-mails: the budget, the token alarm and the operational alarms (any number; each confirms its subscription once)."
  default     = []
}

variable "eval_client_enabled" {
  type        = bool
  description = "Let `agentarch eval --against` sign in to this stack: a dedicated Cognito app client (SRP only, 15-minute tokens) and a pre token generation trigger (the eval_scopes Lambda, eval_scopes.zip) giving its access tokens the API scopes. Moves the user pool to the Essentials feature plan. Off by default."
  default     = false
}
variable "chat_streaming" {
  type        = bool
  description = "Stream the chat answers (Server-Sent Events through API Gateway STREAM and the Lambda Web Adapter) to clients that ask for text/event-stream; JSON stays for the others. Off: every answer is buffered (29 s limit)."
  default     = false
}

variable "lambda_web_adapter_layer_arn" {
  type        = string
  description = "The Lambda Web Adapter layer version for arm64 in this region, used when chat_streaming is on; null: AWS's public layer arn:aws:lambda:<region>:753240598075:layer:LambdaAdapterLayerArm64:25 (see github.com/awslabs/aws-lambda-web-adapter for the current version and the regions that have it; China and GovCloud regions use other accounts)."
  default     = null

  validation {
    condition     = var.lambda_web_adapter_layer_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.lambda_web_adapter_layer_arn))
    error_message = "lambda_web_adapter_layer_arn must be a layer version ARN: arn:aws:lambda:<region>:<account>:layer:<name>:<version>."
  }
}
