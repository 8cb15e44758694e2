# The code artifact bucket, created unless artifact_bucket_name names an existing one (create_artifact_bucket).
resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_18:Holds only build artifacts written by Terraform; access logging would need a second bucket.
  #checkov:skip=CKV_AWS_144:Artifacts are rebuilt from source; cross-region replication adds cost and no recovery value.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events for build artifacts.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) is enforced below; a customer managed key would also need kms:Decrypt for the deployer.
  count = local.create_bucket ? 1 : 0

  bucket_prefix = "${substr(lower(replace(var.name, "_", "-")), 0, 24)}-agent-"
  force_destroy = true
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  count = local.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.artifacts[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.artifacts[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "artifacts" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.artifacts[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.artifacts[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  #checkov:skip=CKV_AWS_300:The rule below aborts incomplete uploads after a day; checkov stops seeing it once count reads create_artifact_bucket.
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.artifacts[0].id

  rule {
    id     = "expire-old-builds"
    status = "Enabled"

    filter {
      prefix = "agent/"
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "artifacts_tls" {
  count = local.create_bucket ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts[0].arn, "${aws_s3_bucket.artifacts[0].arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.artifacts[0].id
  policy = data.aws_iam_policy_document.artifacts_tls[0].json

  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

resource "aws_s3_object" "agent" {
  bucket      = local.bucket
  key         = local.artifact_key
  source      = var.artifact_path
  source_hash = filesha256(var.artifact_path)
  tags        = var.tags

  # A new build is uploaded and the runtime switched to it before the previous object is deleted:
  # a failed update leaves the runtime on a build that still exists.
  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.artifacts]
}
