locals {
  conversations_index = "by_actor"
  sweep_index         = "by_sweep" # deleted conversations the scheduled sweep has yet to go over
  # Epoch seconds after which DynamoDB deletes the item: the chat Lambda sets it to the last turn
  # plus Memory's event expiry, so a conversation leaves the list when its history expires.
  expiry_attribute = "expires_at"
}

# Conversation index: who owns which session, its title and timestamps. The chat Lambda writes it
# (conditional put on session_id), the conversations Lambda lists a user's sessions newest first.
resource "aws_dynamodb_table" "conversations" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS owned key unless kms_key_arn selects a customer managed key.
  name                        = "${var.name}-conversations"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "session_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "session_id"
    type = "S"
  }

  attribute {
    name = "actor_id"
    type = "S"
  }

  # ISO-8601 UTC timestamps sort as strings.
  attribute {
    name = "updated_at"
    type = "S"
  }

  # A deletion's tombstone carries sweep = "due" until the scheduled sweep has gone over it (sparse).
  attribute {
    name = "sweep"
    type = "S"
  }

  attribute {
    name = "deleted_at"
    type = "S"
  }

  global_secondary_index {
    name            = local.conversations_index
    hash_key        = "actor_id"
    range_key       = "updated_at"
    projection_type = "ALL"
  }

  global_secondary_index {
    name               = local.sweep_index
    hash_key           = "sweep"
    range_key          = "deleted_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["actor_id"]
  }

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

# Support tickets the agent's create_ticket tool opens, one item per approved call (a conditional put
# on ticket_id, so a replayed approval finds its ticket); search_tickets scans them and
# comment_on_ticket appends to an item's comments. Who may read which ticket is the tool policy's call.
resource "aws_dynamodb_table" "tickets" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS owned key unless kms_key_arn selects a customer managed key.
  name                        = "${var.name}-tickets"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "ticket_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "ticket_id"
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

# The kill switch's locks table, in its own module so that pattern 2 (no conversations) has it too.
module "kill_switch" {
  source = "../kill_switch"

  name                   = var.name
  deletion_protection    = var.deletion_protection
  point_in_time_recovery = var.point_in_time_recovery
  kms_key_arn            = var.kms_key_arn
  tags                   = var.tags
}

# The table was declared here before it had a module of its own: the same table, not a new one.
moved {
  from = aws_dynamodb_table.locks
  to   = module.kill_switch.aws_dynamodb_table.locks
}
