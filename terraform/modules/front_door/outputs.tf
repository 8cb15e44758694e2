output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "execution_arn" {
  description = "execute-api ARN prefix, for Lambda permissions (<execution_arn>/<stage>/<METHOD>/<path>)."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "stage_name" {
  description = "Name of the stage."
  value       = aws_api_gateway_stage.this.stage_name
}

output "stage_arn" {
  description = "ARN of the stage (the WAF association target)."
  value       = aws_api_gateway_stage.this.arn
}

output "api_url" {
  description = "Base URL of the API (the stage's invoke URL, no trailing slash); routes hang below it."
  value       = trimsuffix(aws_api_gateway_stage.this.invoke_url, "/")
}

output "routes" {
  description = "The routes served, by name: \"METHOD /path\"."
  value       = { for k, r in var.routes : k => "${r.method} ${r.path}" }
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL in front of the stage (created, or the one passed in web_acl_arn)."
  value       = local.web_acl_arn
}

output "access_log_group_name" {
  description = "CloudWatch log group of the access logs."
  value       = aws_cloudwatch_log_group.access.name
}

output "waf_log_group_name" {
  description = "CloudWatch log group of the WAF logs; null with a central web ACL (its owner logs it)."
  value       = try(aws_cloudwatch_log_group.waf[0].name, null)
}

output "api_name" {
  description = "Name of the REST API (the ApiName dimension of its AWS/ApiGateway metrics)."
  value       = aws_api_gateway_rest_api.this.name
}
