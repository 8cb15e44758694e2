locals {
  tags          = { project = "agentarch", pattern = "1-passthrough" }
  artifacts_dir = coalesce(var.artifacts_dir, "${path.root}/../../../lambda_build/dist")
  agent_name    = replace(var.name, "-", "_") # AgentCore names refuse hyphens
  redirect_uri  = "${var.web_origin}/"

  max_body_bytes = 32768 # WAF's body-size rule; 16384 avoids WAF's charge for inspecting more
}

module "identity" {
  source = "../../modules/identity"

  name                = var.name
  callback_urls       = [local.redirect_uri]
  logout_urls         = [local.redirect_uri]
  deletion_protection = "INACTIVE"
}

# The runtime still trusts the user's token (JWT authorizer) ...
module "runtime" {
  source = "../../modules/agent_runtime"

  name             = local.agent_name
  artifact_path    = "${local.artifacts_dir}/agent.zip"
  bedrock_model_id = var.bedrock_model_id
  policy_mode      = var.policy_mode

  environment_variables = {
    MODEL_PROVIDER   = "bedrock"
    BEDROCK_MODEL_ID = var.bedrock_model_id
    BEDROCK_REGION   = var.region
  }

  jwt_authorizer = {
    discovery_url   = module.identity.discovery_url
    allowed_clients = [module.identity.client_id]
  }
}

# The page sends {"message", "session_id"?}; the runtime wants {"prompt", "session_id"} and the
# session id in its header too, so one conversation keeps one microVM (the request id would start a
# new one on every call, each idling up to 900 s). A session id that does not match the pattern the
# runtime and the Lambdas accept is replaced by the request id (a UUID).
locals {
  runtime_request_template = <<-EOT
    #set($sid = "$!input.path('$.session_id')")
    #if(!$sid.matches("^[a-zA-Z0-9][a-zA-Z0-9_-]{32,99}$"))#set($sid = $context.requestId)#end
    #set($context.requestOverride.header.X-Amzn-Bedrock-AgentCore-Runtime-Session-Id = $sid)
    {"prompt": $input.json('$.message'), "session_id": "$sid"}
  EOT
}

# ... and the front door forwards the same token to it. WAF and throttling protect this URL, but the
# runtime's own URL accepts the very same token: the bypass gap.
module "front_door" {
  source = "../../modules/front_door"

  name                 = var.name
  user_pool_arn        = module.identity.user_pool_arn
  authorization_scopes = [module.identity.api_scope]
  allowed_origins      = [var.web_origin]
  max_body_bytes       = local.max_body_bytes
  logging_enabled      = var.api_gateway_logging
  log_kms_key_arn      = var.log_kms_key_arn

  routes = {
    chat = {
      path             = "/api/chat"
      method           = "POST"
      integration      = "http"
      http_uri         = module.runtime.invocation_url # by runtime id and account: the ARN form 404s here
      request_template = local.runtime_request_template

      relax_waf_body_rules = true
    }
  }
}
