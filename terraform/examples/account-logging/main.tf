# One per account and region: the role API Gateway uses to write every REST API's access and
# execution logs. It is an account setting, not part of any one API: in provider v6 destroying
# aws_api_gateway_account resets it, so it lives here, in its own state, applied once and kept.
locals {
  tags = merge({ project = "agentarch", purpose = "api-gateway-account-logging" }, var.tags)
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

data "aws_partition" "current" {}

data "aws_iam_policy_document" "apigw_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigw_cloudwatch" {
  name_prefix          = "apigw-cloudwatch-"
  assume_role_policy   = data.aws_iam_policy_document.apigw_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

resource "aws_iam_role_policy_attachment" "apigw_cloudwatch" {
  role       = aws_iam_role.apigw_cloudwatch.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.apigw_cloudwatch.arn

  depends_on = [aws_iam_role_policy_attachment.apigw_cloudwatch]
}

variable "region" {
  type        = string
  description = "Region whose API Gateway account setting this sets (one apply per region)."
  default     = "us-east-1"
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for the role."
  default     = {}
}

variable "permissions_boundary_arn" {
  type        = string
  description = "Permissions boundary for the role, if your organisation requires one."
  default     = null
}

output "cloudwatch_role_arn" {
  description = "The role API Gateway now uses in this account and region for every REST API's logs."
  value       = aws_iam_role.apigw_cloudwatch.arn
}
