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

output "stream_arn" {
  description = "ARN of the table's stream (the notary's feed)."
  value       = aws_dynamodb_table.audit.stream_arn
}

output "notary_key_arn" {
  description = "ARN of the notary's signing key (NOTARY_KEY_ID; kms:Sign for the notary only; kms:Verify for the audit reader, kms:GetPublicKey for verify --bucket)."
  value       = aws_kms_key.notary.arn
}

output "checkpoint_bucket_name" {
  description = "Name of the Object Lock bucket of the signed checkpoints (NOTARY_BUCKET; agentarch audit verify --bucket)."
  value       = aws_s3_bucket.checkpoints.bucket
}

output "checkpoint_bucket_arn" {
  description = "ARN of the checkpoint bucket."
  value       = aws_s3_bucket.checkpoints.arn
}

output "notary_policy_statements" {
  description = "What the notary's role needs, and no writer gets: read the stream, sign with the key, write and read checkpoints."
  value = [
    {
      sid       = "AuditStream"
      actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
      resources = [aws_dynamodb_table.audit.stream_arn]
    },
    {
      sid       = "NotaryKey"
      actions   = ["kms:Sign"]
      resources = [aws_kms_key.notary.arn]
    },
    {
      sid       = "Checkpoints"
      actions   = ["s3:GetObject", "s3:PutObject"]
      resources = ["${aws_s3_bucket.checkpoints.arn}/checkpoints/*"]
    },
    {
      sid       = "CheckpointList"
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.checkpoints.arn]
    },
  ]
}
