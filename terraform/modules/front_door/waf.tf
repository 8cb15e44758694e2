locals {
  create_web_acl    = var.web_acl_arn == null
  web_acl_arn       = local.create_web_acl ? aws_wafv2_web_acl.this[0].arn : var.web_acl_arn
  waf_metric_prefix = replace(var.name, "/[^A-Za-z0-9_-]/", "-")

  # Body rules of the common rule set that match ordinary prompts with code or paths in them, and the
  # label each one adds to a request it matches (even on COUNT), for a later rule to act on.
  free_text_body_rules = {
    CrossSiteScripting_BODY = "awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body"
    GenericLFI_BODY         = "awswaf:managed:aws:core-rule-set:GenericLFI_Body"
    GenericRFI_BODY         = "awswaf:managed:aws:core-rule-set:GenericRFI_Body"
    EC2MetaDataSSRF_BODY    = "awswaf:managed:aws:core-rule-set:EC2MetaDataSSRF_Body"
  }
  relaxed_paths = distinct([for r in var.routes : r.path if r.relax_waf_body_rules])
  relaxed       = length(local.relaxed_paths) > 0
  # The stage name precedes the route in the URI WAF sees (/<stage>/api/chat); a custom domain may drop it.
  relaxed_path_regex = "^(/[^/]+)?(${join("|", [for p in local.relaxed_paths : replace(p, "/[.]/", "\\.")])})/?$"
  # One copy of the common rule set (700 WCU): its 8 KB body rule always counts (body-size-limit
  # enforces the project's own limit); with relaxed routes the free-text body rules count too, and
  # free-text-body-rules-outside-relaxed-paths blocks on their labels everywhere but those routes.
  crs_count_rules = concat(["SizeRestrictions_BODY"], local.relaxed ? keys(local.free_text_body_rules) : [])
  # WAF inspects at most this much of a body; it must cover max_body_bytes or every larger body matches.
  body_inspection_limit = (
    var.max_body_bytes <= 16384 ? "KB_16" :
    var.max_body_bytes <= 32768 ? "KB_32" :
    var.max_body_bytes <= 49152 ? "KB_48" : "KB_64"
  )
}

resource "aws_wafv2_web_acl" "this" {
  count = local.create_web_acl ? 1 : 0

  name        = "${var.name}-api"
  description = "agentarch front door: managed rules, per-IP rate limit, body size limit"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  association_config {
    request_body {
      api_gateway {
        default_size_inspection_limit = local.body_inspection_limit
      }
    }
  }

  custom_response_body {
    key          = "rate_limited"
    content_type = "APPLICATION_JSON"
    content      = jsonencode({ error = { code = "rate_limited", message = "Too many requests from this address; try again in a few minutes." } })
  }

  custom_response_body {
    key          = "payload_too_large"
    content_type = "APPLICATION_JSON"
    content      = jsonencode({ error = { code = "payload_too_large", message = "The request body is larger than ${var.max_body_bytes} bytes." } })
  }

  # Denial of wallet starts with one address sending too much: block it for the rest of the window.
  rule {
    name     = "rate-limit-per-ip"
    priority = 1

    action {
      block {
        custom_response {
          response_code            = 429
          custom_response_body_key = "rate_limited"

          response_header {
            name  = "Access-Control-Allow-Origin"
            value = local.cors_origin
          }
        }
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.rate_limit_per_5_minutes
        aggregate_key_type    = "IP"
        evaluation_window_sec = 300
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric_prefix}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  # Same limit as the Lambdas' MAX_BODY_BYTES: oversized bodies never reach them.
  rule {
    name     = "body-size-limit"
    priority = 2

    action {
      block {
        custom_response {
          response_code            = 413
          custom_response_body_key = "payload_too_large"

          response_header {
            name  = "Access-Control-Allow-Origin"
            value = local.cors_origin
          }
        }
      }
    }

    statement {
      size_constraint_statement {
        comparison_operator = "GT"
        size                = var.max_body_bytes

        field_to_match {
          body {
            oversize_handling = "MATCH"
          }
        }

        text_transformation {
          priority = 0
          type     = "NONE"
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric_prefix}-body-size"
      sampled_requests_enabled   = true
    }
  }

  # AWS managed rules: the common set (its 8 KB body rule only counts, the body-size rule above
  # enforces the project's own limit), known bad inputs (Log4j and friends), IP reputation.
  # On routes that carry free text (relax_waf_body_rules, e.g. the chat route) the body rules for
  # XSS, LFI, RFI and EC2 metadata SSRF only count: a prompt asking about <script>, pasting code or
  # mentioning ../../etc/passwd is an ordinary question there. Everywhere else the next rule blocks
  # what they label, so one copy of the rule set (700 WCU) serves both.
  rule {
    name     = "AWSManagedRulesCommonRuleSet"
    priority = 10

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesCommonRuleSet"
        vendor_name = "AWS"

        dynamic "rule_action_override" {
          for_each = local.crs_count_rules
          content {
            name = rule_action_override.value
            action_to_use {
              count {}
            }
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric_prefix}-AWSManagedRulesCommonRuleSet"
      sampled_requests_enabled   = true
    }
  }

  # A request the free-text body rules labelled is blocked unless its path is a relaxed route.
  dynamic "rule" {
    for_each = local.relaxed ? [1] : []
    content {
      name     = "free-text-body-rules-outside-relaxed-paths"
      priority = 11

      action {
        block {}
      }

      statement {
        and_statement {
          statement {
            or_statement {
              dynamic "statement" {
                for_each = values(local.free_text_body_rules)
                content {
                  label_match_statement {
                    scope = "LABEL"
                    key   = statement.value
                  }
                }
              }
            }
          }

          statement {
            not_statement {
              statement {
                regex_match_statement {
                  regex_string = local.relaxed_path_regex
                  field_to_match {
                    uri_path {}
                  }
                  text_transformation {
                    priority = 0
                    type     = "NONE"
                  }
                }
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${local.waf_metric_prefix}-free-text-body-rules-outside-relaxed-paths"
        sampled_requests_enabled   = true
      }
    }
  }

  rule {
    name     = "AWSManagedRulesKnownBadInputsRuleSet"
    priority = 20

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric_prefix}-AWSManagedRulesKnownBadInputsRuleSet"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "AWSManagedRulesAmazonIpReputationList"
    priority = 30

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesAmazonIpReputationList"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.waf_metric_prefix}-AWSManagedRulesAmazonIpReputationList"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${local.waf_metric_prefix}-api"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

# WAF only logs to log groups whose name starts with aws-waf-logs-.
resource "aws_cloudwatch_log_group" "waf" {
  count = local.create_web_acl ? 1 : 0

  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (30 days by default, to keep a demo cheap).
  #checkov:skip=CKV_AWS_158:Encrypted with the AWS managed key unless log_kms_key_arn is set; the Authorization header is redacted from WAF logs.
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  count = local.create_web_acl ? 1 : 0

  resource_arn            = aws_wafv2_web_acl.this[0].arn
  log_destination_configs = [aws_cloudwatch_log_group.waf[0].arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  resource_arn = aws_api_gateway_stage.this.arn
  web_acl_arn  = local.web_acl_arn
}
