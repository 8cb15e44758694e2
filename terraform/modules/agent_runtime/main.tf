data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  create_bucket = var.artifact_bucket_name == null
  bucket        = local.create_bucket ? aws_s3_bucket.artifacts[0].id : var.artifact_bucket_name
  # The content hash in the key: a new build is a new object, so the runtime really redeploys.
  artifact_key = "agent/${filesha256(var.artifact_path)}.zip"

  # A geo-prefixed id (us., eu., apac., global., ...) is a cross-region inference profile: grant the
  # profile and the foundation model it routes to, in any region it may route to.
  model_is_profile = var.bedrock_model_id == null ? false : can(regex("^(us|eu|apac|global|jp|au|ca|us-gov)\\.", var.bedrock_model_id))
  base_model_id    = var.bedrock_model_id == null ? null : (local.model_is_profile ? replace(var.bedrock_model_id, "/^[a-z-]+\\./", "") : var.bedrock_model_id)
  model_arns = var.bedrock_model_id == null ? [] : compact([
    local.model_is_profile ? "arn:${local.partition}:bedrock:${local.region}:${local.account_id}:inference-profile/${var.bedrock_model_id}" : null,
    "arn:${local.partition}:bedrock:*::foundation-model/${local.base_model_id}",
  ])

  environment_variables = length(var.environment_variables) == 0 ? null : var.environment_variables
}
