# The kill switch (agentarch policy lock, POST /api/admin/locks): one item per lock, keyed
# `user#<sub>`, `session#<id>` or `all#*`. The chat Lambda reads it before each new turn and the agent
# before each model call and tool call (BatchGetItem); the audit Lambda, or an admin's CLI, writes and
# lists it.
resource "aws_dynamodb_table" "locks" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS owned key unless kms_key_arn selects a customer managed key.
  name                        = "${var.name}-locks"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = var.kms_key_arn != null
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
