output "web_config" {
  description = "Everything the web page needs (`terraform output -json | agentarch web-config` writes its config file from this)."
  value = {
    pattern     = 2
    api_url     = "${module.front_door.api_url}/api"
    runtime_url = null
    runtime_arn = null
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
  description = "The runtime's own invocations URL. It accepts only SigV4 from the chat Lambda's role: a user token is refused."
  value       = module.runtime.invocation_url
}

output "api_url" {
  description = "Base URL the page calls: POST <api_url>/chat (and <api_url>/conversations in pattern 3)."
  value       = "${module.front_door.api_url}/api"
}

output "web_acl_arn" {
  description = "WAF web ACL in front of the API."
  value       = module.front_door.web_acl_arn
}

output "chat_function_name" {
  description = "Name of the chat Lambda (for logs: aws logs tail /aws/lambda/<name>)."
  value       = module.chat.function_name
}

output "eval_sign_in" {
  description = "What `agentarch eval --cognito FILE` reads (terraform output -json eval_sign_in > FILE): the API's base URL, the user pool, the eval client and the scope its tokens must carry; null unless eval_client_enabled."
  value = var.eval_client_enabled ? {
    against      = module.front_door.api_url
    user_pool_id = module.identity.user_pool_id
    client_id    = module.identity.eval_client_id
    region       = module.identity.region
    scope        = module.identity.api_scope
  } : null
}

output "audit_table_name" {
  description = "The audit trail's DynamoDB table: `agentarch audit --table <this>` reads it, `agentarch audit verify --table <this>` checks its chains."
  value       = module.audit_trail.table_name
}

output "locks_table_name" {
  description = "The kill switch's DynamoDB table (no audit Lambda here: an admin uses the CLI): `agentarch policy lock --table <this> --audit-table <audit_table_name> --runtime-arn <runtime_arn> --user <sub>`."
  value       = module.kill_switch.table_name
}
