output "web_config" {
  description = "Everything the web page needs (`terraform output -json | agentarch web-config` writes its config file from this)."
  value = {
    pattern     = 0
    api_url     = null
    runtime_url = module.runtime.invocation_url
    runtime_arn = module.runtime.runtime_arn
    cognito = {
      domain       = module.identity.domain
      client_id    = module.identity.client_id
      region       = module.identity.region
      redirect_uri = local.redirect_uri
      logout_uri   = local.redirect_uri
      scope        = module.identity.oauth_scopes
    }
  }
}

output "user_pool_id" {
  description = "Cognito user pool; create users with aws cognito-idp admin-create-user."
  value       = module.identity.user_pool_id
}

output "hosted_ui_url" {
  description = "Hosted sign-in page of the user pool."
  value       = "https://${module.identity.domain}"
}

output "runtime_arn" {
  description = "ARN of the AgentCore runtime."
  value       = module.runtime.runtime_arn
}

output "runtime_url" {
  description = "The runtime's own invocations URL. The browser calls it directly with the user's access token."
  value       = module.runtime.invocation_url
}
