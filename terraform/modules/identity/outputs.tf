output "user_pool_id" {
  description = "ID of the Cognito user pool."
  value       = local.user_pool_id
}

output "user_pool_arn" {
  description = "ARN of the user pool (the API Gateway authorizer trusts it)."
  value       = local.user_pool_arn
}

output "issuer_url" {
  description = "Token issuer (iss claim) of the user pool."
  value       = "https://cognito-idp.${local.region}.amazonaws.com/${local.user_pool_id}"
}

output "discovery_url" {
  description = "OpenID Connect discovery URL of the user pool (for JWT authorizers)."
  value       = "https://cognito-idp.${local.region}.amazonaws.com/${local.user_pool_id}/.well-known/openid-configuration"
}

output "client_id" {
  description = "ID of the public web client (code flow + PKCE, no secret)."
  value       = local.client_id
}

output "eval_client_id" {
  description = "ID of the evaluation client (USER_SRP_AUTH, no OAuth flow) whose access tokens the trigger gives the API scopes; null unless eval_client_enabled."
  value       = try(aws_cognito_user_pool_client.eval[0].id, null)
}

output "domain" {
  description = "Hosted UI domain, without scheme: <prefix>.auth.<region>.amazoncognito.com."
  value       = local.domain
}

output "region" {
  description = "Region of the user pool."
  value       = local.region
}

output "api_scope" {
  description = "The scope API methods require in access tokens (<identifier>/<scope>)."
  value       = local.api_scope
}

output "oauth_scopes" {
  description = "Scopes the web client should request, space separated."
  value       = join(" ", concat(["openid", "email", "profile"], local.api_scopes))
}

output "api_scopes" {
  description = "Every API scope of the resource server (<identifier>/<scope>), api_scope first."
  value       = local.api_scopes
}

output "group_names" {
  description = "Names of the Cognito groups."
  value       = [for g in aws_cognito_user_group.this : g.name]
}

output "audit_admin_group" {
  description = "Name of the Cognito group that may read the audit trail (AUDIT_ADMIN_GROUP); null when none is created."
  value       = try(aws_cognito_user_group.audit_admins[0].name, null)
}
