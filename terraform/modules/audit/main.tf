locals {
  by_actor_index = "by_actor" # an actor's records, by time
  by_day_index   = "by_day"   # everyone's records, by UTC day bucket and time
  # Epoch seconds after which DynamoDB deletes the item: the writers set it from a session's first
  # record plus retention_days, the same for the whole session, so a chain expires at once.
  expiry_attribute = "expires_at"
  # Every attribute a writer puts; the writers' PutItem is allowed on exactly these (dynamodb:Attributes).
  item_attributes = ["session_id", "seq", "actor_id", "recorded_at", "day", "record", local.expiry_attribute]
}

# The audit trail: one append-only hash chain per session (hash session_id, range seq). The chat Lambda
# (turn records) and the agent runtime (tool-call records) only PutItem with attribute_not_exists(seq)
# and Query the chain's head; nobody is granted UpdateItem, DeleteItem or BatchWriteItem on it.
resource "aws_dynamodb_table" "audit" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS owned key unless kms_key_arn selects a customer managed key.
  name                        = "${var.name}-audit"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "session_id"
  range_key                   = "seq"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "session_id"
    type = "S"
  }

  attribute {
    name = "seq"
    type = "N"
  }

  attribute {
    name = "actor_id"
    type = "S"
  }

  # ISO-8601 UTC timestamps with milliseconds sort as strings.
  attribute {
    name = "recorded_at"
    type = "S"
  }

  attribute {
    name = "day"
    type = "S"
  }

  global_secondary_index {
    name            = local.by_actor_index
    hash_key        = "actor_id"
    range_key       = "recorded_at"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = local.by_day_index
    hash_key        = "day"
    range_key       = "recorded_at"
    projection_type = "ALL"
  }

  # The notary's feed (notary.tf): every INSERT, MODIFY and REMOVE, with the item before and after.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  # Always on: with retention_days null the writers set no expiry, and nothing expires.
  ttl {
    attribute_name = local.expiry_attribute
    enabled        = true
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

# The key of the argument digests (HMAC-SHA256): the key material never leaves KMS, so it is in no
# Terraform state, environment or log; the agent runtime may only GenerateMac with it.
resource "aws_kms_key" "arguments" {
  #checkov:skip=CKV_AWS_7:KMS rotates symmetric encryption keys only; an HMAC key cannot rotate automatically.
  #checkov:skip=CKV2_AWS_64:The default key policy applies: the account administers the key through IAM, and only the runtime role is granted kms:GenerateMac.
  description              = "HMAC key of the ${var.name} audit trail's argument digests"
  key_usage                = "GENERATE_VERIFY_MAC"
  customer_master_key_spec = "HMAC_256"
  enable_key_rotation      = false
  deletion_window_in_days  = var.key_deletion_window_days
  tags                     = var.tags
}
