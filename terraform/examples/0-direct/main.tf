locals {
  tags          = { project = "agentarch", pattern = "0-direct" }
  artifacts_dir = coalesce(var.artifacts_dir, "${path.root}/../../../lambda_build/dist")
  agent_name    = replace(var.name, "-", "_") # AgentCore names refuse hyphens
  redirect_uri  = "${var.web_origin}/"
}

module "identity" {
  source = "../../modules/identity"

  name                = var.name
  callback_urls       = [local.redirect_uri]
  logout_urls         = [local.redirect_uri]
  deletion_protection = "INACTIVE"
}

# The anti-pattern: the browser calls the runtime itself, and the runtime trusts the user's access
# token (Cognito puts client_id in access tokens; the JWT authorizer checks it). Nothing sits in
# between: no rate limit, no body limit, no validation, no place for business rules.
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
