variable "region" {
  type        = string
  description = "AWS region of the platform's pool, ACL and the agents."
  default     = "eu-west-1"
}

variable "name" {
  type        = string
  description = "Name prefix of what this configuration creates."
  default     = "platform-agents"
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource."
  default     = {}
}

variable "user_pool" {
  type = object({
    id     = string
    arn    = string
    domain = optional(string)
  })
  description = "The platform's existing Cognito user pool (id, arn, hosted UI domain)."
}

variable "web_acl_arn" {
  type        = string
  description = "The platform's central REGIONAL web ACL."
}

variable "permissions_boundary_arn" {
  type        = string
  description = "The boundary every role must carry."
}

variable "web_origins" {
  type        = list(string)
  description = "The portals that call the API (every one gets CORS)."
  default     = ["https://portal.example.com", "https://admin.example.com"]
}

variable "bedrock_model_id" {
  type        = string
  description = "Model or inference profile both agents use."
  default     = "eu.amazon.nova-lite-v1:0"
}

variable "powertools_layer_version" {
  type        = number
  description = "Version N of the public Powertools layer (see the 2-secure README)."
}

variable "tool_secret_arn" {
  type        = string
  description = "Secret the assistant's tool reads."
}

variable "status_artifact_path" {
  type        = string
  description = "Zip of the team's Node.js status function."
}

variable "status_table_name" {
  type        = string
  description = "Table the status function reads."
}

variable "artifacts_dir" {
  type        = string
  description = "Directory of agentarch's zips; null means lambda_build/dist of this repository."
  default     = null
}
