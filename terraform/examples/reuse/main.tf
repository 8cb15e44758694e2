# A platform team's root configuration: its own Cognito pool, its central web ACL, a permissions
# boundary on every role, two agent runtimes behind one front door, and the Lambda module reused
# for a function that has nothing to do with agentarch. The static checks keep it working.
locals {
  tags          = merge({ project = "agentarch", owner = "platform" }, var.tags)
  artifacts_dir = coalesce(var.artifacts_dir, "${path.root}/../../../lambda_build/dist")
  boundary      = var.permissions_boundary_arn
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# The pool exists (and keeps its own MFA, password and sign-up settings); agentarch adds its resource
# server with two scopes, and a web client, to it.
module "identity" {
  source = "../../modules/identity"

  name               = var.name
  existing_user_pool = var.user_pool
  callback_urls      = [for origin in var.web_origins : "${origin}/"]
  logout_urls        = [for origin in var.web_origins : "${origin}/"]
  groups             = {}
  additional_scopes  = { triage = "Ask the triage agent" }
}

# Two runtimes from one build, sharing one artifact bucket: each gets its own object key.
module "assistant" {
  source = "../../modules/agent_runtime"

  name                     = "platform_assistant"
  artifact_path            = "${local.artifacts_dir}/agent.zip"
  bedrock_model_id         = var.bedrock_model_id
  permissions_boundary_arn = local.boundary
  environment_variables    = { MODEL_PROVIDER = "bedrock", BEDROCK_MODEL_ID = var.bedrock_model_id }

  # The team's own statement, with a condition: read its tool's secret, only in this region.
  policy_statements = [{
    sid       = "ToolSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.tool_secret_arn]
    conditions = [{
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [var.region]
    }]
  }]
}

# The second runtime trusts the pool's access tokens (the pattern 1 passthrough): an internal triage
# tool the team reaches through the same front door, with its own scope.
module "triage" {
  source = "../../modules/agent_runtime"

  name                     = "platform_triage"
  artifact_path            = "${local.artifacts_dir}/agent.zip"
  artifact_bucket_name     = module.assistant.artifact_bucket
  create_artifact_bucket   = false # the bucket's name is known only after apply: say so at plan
  bedrock_model_id         = var.bedrock_model_id
  permissions_boundary_arn = local.boundary
  environment_variables    = { MODEL_PROVIDER = "bedrock", BEDROCK_MODEL_ID = var.bedrock_model_id }

  jwt_authorizer = {
    discovery_url   = module.identity.discovery_url
    allowed_clients = [module.identity.client_id]
  }
}

module "chat" {
  source = "../../modules/lambda_function"

  name                     = "${var.name}-chat"
  description              = "POST /api/chat: validates, derives the actor, invokes the assistant with SigV4"
  artifact_path            = "${local.artifacts_dir}/chat.zip"
  handler                  = "agentarch.handlers.chat.lambda_handler"
  powertools_layer_version = var.powertools_layer_version
  permissions_boundary_arn = local.boundary
  api_gateway_source_arn   = "${module.front_door.execution_arn}/*/POST/api/chat"

  environment = {
    AGENT_RUNTIME_ARN           = module.assistant.runtime_arn
    AGENT_TOTAL_TIMEOUT_SECONDS = "25"
    ALLOWED_ORIGINS             = join(",", var.web_origins)
    POWERTOOLS_SERVICE_NAME     = "chat"
  }

  policy_statements = [{
    sid       = "InvokeAgentRuntime"
    actions   = ["bedrock-agentcore:InvokeAgentRuntime"]
    resources = [module.assistant.runtime_arn, "${module.assistant.runtime_arn}/runtime-endpoint/*"]
  }]
}

# Nothing to do with agentarch: the team's Node.js status function, reusing the module.
module "status" {
  source = "../../modules/lambda_function"

  name                     = "${var.name}-status"
  description              = "GET /api/status: the platform's health summary"
  artifact_path            = var.status_artifact_path
  handler                  = "index.handler"
  runtime                  = "nodejs22.x"
  architecture             = "arm64"
  botocore_data_path       = false
  permissions_boundary_arn = local.boundary
  api_gateway_source_arn   = "${module.front_door.execution_arn}/*/GET/api/status"
  environment              = { STATUS_TABLE = var.status_table_name }
}

module "front_door" {
  source = "../../modules/front_door"

  name                 = var.name
  user_pool_arn        = module.identity.user_pool_arn
  authorization_scopes = [module.identity.api_scope]
  allowed_origins      = var.web_origins
  web_acl_arn          = var.web_acl_arn # the central ACL: its owner runs rules, limits and logs
  logging_enabled      = true            # the account's API Gateway logging role is the platform's

  routes = {
    chat = { path = "/api/chat", method = "POST", lambda_invoke_arn = module.chat.invoke_arn, relax_waf_body_rules = true }
    triage = {
      path                 = "/api/triage"
      method               = "POST"
      integration          = "http"
      http_uri             = module.triage.invocation_url
      request_template     = "{\"prompt\": $input.json('$.message')}"
      authorization_scopes = [module.identity.api_scopes[1]]
    }
    status = { path = "/api/status", method = "GET", lambda_invoke_arn = module.status.invoke_arn, authorization = "NONE" }
  }
}
