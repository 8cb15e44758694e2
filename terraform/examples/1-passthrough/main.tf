locals {
  tags          = merge({ project = "agentarch", pattern = "1-passthrough" }, var.tags)
  artifacts_dir = coalesce(var.artifacts_dir, "${path.root}/../../../lambda_build/dist")
  agent_name    = replace(var.name, "-", "_") # AgentCore names refuse hyphens
  redirect_uri  = "${var.web_origin}${var.web_redirect_path}"
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

# The page sends {"message", "session_id"?}; the runtime wants {"prompt", "session_id"}.
locals {
  runtime_request_template = <<-EOT
    #set($sid = $input.path('$.session_id'))
    #if("$!sid" == "")#set($sid = $context.requestId)#end
    {"prompt": $input.json('$.message'), "session_id": "$util.escapeJavaScript($sid)"}
  EOT
}

# ... and the front door forwards the same token to it. WAF and throttling protect this URL, but the
# runtime's own URL accepts the very same token: the bypass gap.
module "front_door" {
  source = "../../modules/front_door"

  name                           = var.name
  user_pool_arn                  = module.identity.user_pool_arn
  authorization_scopes           = [module.identity.api_scope]
  allowed_origins                = [var.web_origin]
  rate_limit_per_5_minutes       = var.rate_limit_per_5_minutes
  max_body_bytes                 = var.max_body_bytes
  manage_account_cloudwatch_role = var.manage_account_cloudwatch_role

  routes = {
    chat = {
      path             = "/api/chat"
      method           = "POST"
      integration      = "http"
      http_uri         = module.runtime.invocation_url
      request_template = local.runtime_request_template
    }
  }
}
