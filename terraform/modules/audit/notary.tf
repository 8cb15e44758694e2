# The notary: what the writers (chat Lambda, agent runtime) cannot reach. Its own function (the caller
# builds it with modules/lambda_function, fed by stream_arn through stream_sources, and grants its role
# alone notary_policy_statements) reads the table's stream, signs the chain heads that changed with an
# asymmetric KMS key and writes checkpoints that chain to each other into a bucket with Object Lock.

# Signs checkpoints (ECDSA P-256 over SHA-256). Only the notary's role is granted kms:Sign; anyone may be
# granted kms:Verify (the audit Lambda) or kms:GetPublicKey (the public key verifies offline too).
resource "aws_kms_key" "notary" {
  #checkov:skip=CKV_AWS_7:KMS rotates symmetric encryption keys only; an asymmetric signing key cannot rotate automatically.
  #checkov:skip=CKV2_AWS_64:The default key policy applies: the account administers the key through IAM, and only the notary role is granted kms:Sign.
  description              = "Signs the ${var.name} audit trail's checkpoints (the notary's key: no writer may use it)"
  key_usage                = "SIGN_VERIFY"
  customer_master_key_spec = "ECC_NIST_P256"
  enable_key_rotation      = false
  deletion_window_in_days  = var.key_deletion_window_days
  tags                     = var.tags
}

# Write-once checkpoints: Object Lock keeps every version for checkpoint_retention_days. GOVERNANCE
# (the default) lets a principal with s3:BypassGovernanceRetention delete early, so a demo can be torn
# down; COMPLIANCE lets nobody, not even the account root, until retention ends.
resource "aws_s3_bucket" "checkpoints" {
  #checkov:skip=CKV_AWS_18:Checkpoints are written by one role and read by verify; access logging would need a second bucket.
  #checkov:skip=CKV_AWS_144:Object Lock protects the checkpoints in place; cross-region replication is the operator's choice.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events for checkpoints.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) is enforced below; the signature, not secrecy, is what protects a checkpoint.
  #checkov:skip=CKV2_AWS_61:Object Lock retention, not a lifecycle rule, decides how long checkpoints stay.
  bucket_prefix       = "${substr(lower(replace(var.name, "_", "-")), 0, 24)}-notary-"
  object_lock_enabled = true
  force_destroy       = var.checkpoint_retention_mode == "GOVERNANCE"
  tags                = var.tags
}

resource "aws_s3_bucket_versioning" "checkpoints" {
  bucket = aws_s3_bucket.checkpoints.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "checkpoints" {
  bucket = aws_s3_bucket.checkpoints.id

  rule {
    default_retention {
      mode = var.checkpoint_retention_mode
      days = var.checkpoint_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.checkpoints]
}

resource "aws_s3_bucket_public_access_block" "checkpoints" {
  bucket                  = aws_s3_bucket.checkpoints.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "checkpoints" {
  bucket = aws_s3_bucket.checkpoints.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}
