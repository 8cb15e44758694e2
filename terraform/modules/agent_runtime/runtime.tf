resource "aws_bedrockagentcore_agent_runtime" "this" {
  agent_runtime_name    = var.name
  description           = var.description
  role_arn              = local.role_arn
  environment_variables = local.environment_variables

  agent_runtime_artifact {
    code_configuration {
      entry_point = var.entry_point
      runtime     = var.python_runtime

      code {
        s3 {
          bucket = aws_s3_object.agent.bucket
          prefix = aws_s3_object.agent.key
        }
      }
    }
  }

  network_configuration {
    network_mode = var.network_mode

    dynamic "network_mode_config" {
      for_each = var.network_mode == "VPC" ? [1] : []
      content {
        subnets         = var.subnet_ids
        security_groups = var.security_group_ids
      }
    }
  }

  lifecycle_configuration = [{
    idle_runtime_session_timeout = var.idle_session_timeout_seconds
    max_lifetime                 = var.max_lifetime_seconds
  }]

  protocol_configuration {
    server_protocol = "HTTP"
  }

  dynamic "authorizer_configuration" {
    for_each = var.jwt_authorizer == null ? [] : [var.jwt_authorizer]
    content {
      custom_jwt_authorizer {
        discovery_url    = authorizer_configuration.value.discovery_url
        allowed_clients  = length(authorizer_configuration.value.allowed_clients) > 0 ? authorizer_configuration.value.allowed_clients : null
        allowed_audience = length(authorizer_configuration.value.allowed_audience) > 0 ? authorizer_configuration.value.allowed_audience : null
      }
    }
  }

  # With a JWT authorizer the runtime hands the validated token on to the agent, which verifies it
  # again and takes the user and groups from it (nothing else in the request names the user).
  dynamic "request_header_configuration" {
    for_each = var.jwt_authorizer == null ? [] : [var.jwt_authorizer]
    content {
      request_header_allowlist = ["Authorization"]
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.create_bucket || var.artifact_bucket_name != null
      error_message = "create_artifact_bucket = false needs artifact_bucket_name: the bucket the artifact goes to."
    }
    precondition {
      condition     = var.network_mode == "PUBLIC" || (length(var.subnet_ids) > 0 && length(var.security_group_ids) > 0)
      error_message = "network_mode VPC needs subnet_ids and security_group_ids."
    }
  }

  # The role's policy must exist before the runtime starts serving.
  depends_on = [aws_iam_role_policy.runtime]
}
