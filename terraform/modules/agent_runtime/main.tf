data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Decided by a value known at plan: every `count` in s3.tf reads it.
  create_bucket = var.create_artifact_bucket != null ? var.create_artifact_bucket : var.artifact_bucket_name == null
  bucket        = local.create_bucket ? aws_s3_bucket.artifacts[0].id : var.artifact_bucket_name
  # The runtime's name and the content hash in the key: a new build is a new object, so the runtime
  # really redeploys, and two runtimes sharing a bucket (even with the same zip) never share an object.
  artifact_key = "agent/${var.name}/${filesha256(var.artifact_path)}.zip"

  # A geo-prefixed id (us., eu., apac., global., ...) is a cross-region inference profile: grant the
  # profile and the foundation model it routes to, in any region it may route to.
  model_is_profile = var.bedrock_model_id == null ? false : can(regex("^(us|eu|apac|global|jp|au|ca|us-gov)\\.", var.bedrock_model_id))
  base_model_id    = var.bedrock_model_id == null ? null : (local.model_is_profile ? replace(var.bedrock_model_id, "/^[a-z-]+\\./", "") : var.bedrock_model_id)
  model_arns = var.bedrock_model_id == null ? [] : compact([
    local.model_is_profile ? "arn:${local.partition}:bedrock:${local.region}:${local.account_id}:inference-profile/${var.bedrock_model_id}" : null,
    "arn:${local.partition}:bedrock:*::foundation-model/${local.base_model_id}",
  ])

  # The Memory client reads only AWS_REGION, which the runtime does not set: set it, as FAST does.
  # Never empty, so never {} (the provider fails on an empty map). The tool policy's settings come
  # from their own variables; with a JWT authorizer a browser calls the runtime, so the agent must
  # not trust the actor named in the payload (AGENT_INBOUND_AUTH=JWT): it verifies the token the
  # runtime hands on (request_header_allowlist) against the same issuer and clients, and takes the
  # user from it.
  environment_variables = merge(
    { AWS_REGION = local.region },
    var.environment_variables,
    {
      POLICY_MODE        = var.policy_mode
      AGENT_INBOUND_AUTH = var.jwt_authorizer == null ? "IAM" : "JWT"
    },
    { for name, value in { POLICY_DIR = var.policy_dir } : name => value if value != null },
    var.jwt_authorizer == null ? {} : {
      AGENT_JWT_DISCOVERY_URL   = var.jwt_authorizer.discovery_url
      AGENT_JWT_ALLOWED_CLIENTS = join(",", var.jwt_authorizer.allowed_clients)
    },
  )

  # The log group the service would otherwise create itself, with no retention, outliving destroy.
  log_group_name = "/aws/bedrock-agentcore/runtimes/${aws_bedrockagentcore_agent_runtime.this.agent_runtime_id}-DEFAULT"

  create_role = var.role_arn == null
  role_arn    = local.create_role ? aws_iam_role.runtime[0].arn : var.role_arn
}

# Declared here with retention (and a KMS key when set) so `destroy` removes it. The role this module
# creates may not create log groups, so the service cannot create an unmanaged one first. A brought
# role (role_arn) that may logs:CreateLogGroup races it: the group's name holds the runtime's id, so
# it can only be created after the runtime, and an invocation in between makes the service create it
# first (the apply then fails with ResourceAlreadyExistsException). For such a role set
# create_log_group = false (the service's group then has no retention), or import the group.
resource "aws_cloudwatch_log_group" "runtime" {
  count = var.create_log_group ? 1 : 0

  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (30 days by default, to keep a demo cheap).
  #checkov:skip=CKV_AWS_158:Encrypted with the AWS managed key unless log_kms_key_arn is set.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# The log group became optional (create_log_group): the one instance keeps its state.
moved {
  from = aws_cloudwatch_log_group.runtime
  to   = aws_cloudwatch_log_group.runtime[0]
}
