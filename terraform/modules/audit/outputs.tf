output "table_name" {
  description = "Name of the audit table (AUDIT_TABLE)."
  value       = aws_dynamodb_table.audit.name
}

output "table_arn" {
  description = "ARN of the audit table (PutItem and Query for the writers; Query on it and <arn>/index/* for the reader)."
  value       = aws_dynamodb_table.audit.arn
}

output "argument_key_arn" {
  description = "ARN of the KMS HMAC key of the argument digests (AUDIT_KEY_ID; kms:GenerateMac for the agent runtime)."
  value       = aws_kms_key.arguments.arn
}

output "retention_days" {
  description = "Days a session's records are kept (AUDIT_RETENTION_DAYS), or null."
  value       = var.retention_days
}

output "put_conditions" {
  description = "IAM conditions for the writers' dynamodb:PutItem: only the record's attributes, and no old item returned."
  value = [
    { test = "ForAllValues:StringEquals", variable = "dynamodb:Attributes", values = local.item_attributes },
    { test = "StringEqualsIfExists", variable = "dynamodb:ReturnValues", values = ["NONE"] },
  ]
}
