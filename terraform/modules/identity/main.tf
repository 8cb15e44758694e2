data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  region = data.aws_region.current.region
  # <name>-<account id> cut so it fits Cognito's 63 characters (50 + 1 + 12); a name holding a
  # reserved word (aws, amazon, cognito) is refused by the precondition below, not at apply.
  derived_prefix = "${trim(substr(lower(replace(var.name, "_", "-")), 0, 50), "-")}-${data.aws_caller_identity.current.account_id}"
  domain_prefix  = coalesce(var.domain_prefix, local.derived_prefix)

  create_pool     = var.existing_user_pool == null
  user_pool_id    = local.create_pool ? aws_cognito_user_pool.this[0].id : var.existing_user_pool.id
  user_pool_arn   = local.create_pool ? aws_cognito_user_pool.this[0].arn : var.existing_user_pool.arn
  create_domain   = local.create_pool || try(var.existing_user_pool.domain, null) == null
  domain          = local.create_domain ? "${aws_cognito_user_pool_domain.this[0].domain}.auth.${local.region}.amazoncognito.com" : (strcontains(var.existing_user_pool.domain, ".") ? var.existing_user_pool.domain : "${var.existing_user_pool.domain}.auth.${local.region}.amazoncognito.com")
  create_client   = var.existing_client_id == null
  client_id       = local.create_client ? aws_cognito_user_pool_client.web[0].id : var.existing_client_id
  api_scope       = "${var.resource_server_identifier}/${var.api_scope_name}"
  api_scopes      = concat([local.api_scope], [for name in sort(keys(var.additional_scopes)) : "${var.resource_server_identifier}/${name}"])
  resource_scopes = merge({ (var.api_scope_name) = "Talk to the assistant through the API" }, var.additional_scopes)

  # The eval scopes trigger, named rather than referenced (see lambda_config below).
  pre_token_generation_arn = var.pre_token_generation_function_name == null ? null : "arn:${data.aws_partition.current.partition}:lambda:${local.region}:${data.aws_caller_identity.current.account_id}:function:${var.pre_token_generation_function_name}"
  # A V2_0 pre token generation trigger (access token customization) needs Essentials or Plus.
  user_pool_tier = var.user_pool_tier != null ? var.user_pool_tier : (var.eval_client_enabled ? "ESSENTIALS" : null)
}

resource "aws_cognito_user_pool" "this" {
  count = local.create_pool ? 1 : 0

  name                     = var.name
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  mfa_configuration        = var.mfa_configuration
  deletion_protection      = var.deletion_protection
  user_pool_tier           = local.user_pool_tier

  # The eval client's access tokens get the API scopes from this trigger (SRP tokens carry no custom
  # scope otherwise). The ARN is built from the function's name: the function reads the
  # eval client's id, the client needs the pool, so referencing the function here would be a cycle.
  # Both arguments name the same function, as Cognito requires when both are set.
  dynamic "lambda_config" {
    for_each = var.eval_client_enabled ? [local.pre_token_generation_arn] : []
    content {
      pre_token_generation = lambda_config.value
      pre_token_generation_config {
        lambda_arn     = lambda_config.value
        lambda_version = "V2_0"
      }
    }
  }

  username_configuration {
    case_sensitive = false
  }

  password_policy {
    minimum_length                   = var.password_minimum_length
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 7
  }

  dynamic "software_token_mfa_configuration" {
    for_each = var.mfa_configuration == "OFF" ? [] : [1]
    content {
      enabled = true
    }
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = !var.self_sign_up_enabled
  }

  verification_message_template {
    default_email_option = "CONFIRM_WITH_CODE"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = !var.eval_client_enabled || (var.pre_token_generation_function_name != null && local.user_pool_tier != "LITE")
      error_message = "eval_client_enabled needs pre_token_generation_function_name (the eval scopes trigger) and user_pool_tier ESSENTIALS or PLUS: the Lite plan has no access token customization."
    }
  }
}

# The API's scopes: created here, or already defined on an existing resource server.
resource "aws_cognito_resource_server" "api" {
  count = var.create_resource_server ? 1 : 0

  user_pool_id = local.user_pool_id
  identifier   = var.resource_server_identifier
  name         = "${var.name}-api"

  dynamic "scope" {
    for_each = local.resource_scopes
    content {
      scope_name        = scope.key
      scope_description = scope.value
    }
  }
}

# A public client (no secret) for the browser: authorization code flow with PKCE.
resource "aws_cognito_user_pool_client" "web" {
  count = local.create_client ? 1 : 0

  name                                 = "${var.name}-web"
  user_pool_id                         = local.user_pool_id
  generate_secret                      = false
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_scopes                 = concat(["openid", "email", "profile"], local.api_scopes)
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = var.callback_urls
  logout_urls                          = var.logout_urls
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
  access_token_validity                = var.access_token_validity_minutes
  id_token_validity                    = var.access_token_validity_minutes
  refresh_token_validity               = var.refresh_token_validity_days

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  # The client may only ask for scopes that exist.
  depends_on = [aws_cognito_resource_server.api]
}

# A public client for `agentarch eval --against` a deployed stack: SRP sign-in and refresh only, no
# OAuth flow and no hosted UI, tokens that expire soon. Its access tokens carry the API scopes only
# because the pre token generation trigger adds them for this client id (the web client keeps the
# code flow with PKCE; its tokens get their scopes from the authorization request).
resource "aws_cognito_user_pool_client" "eval" {
  count = var.eval_client_enabled ? 1 : 0

  name                                 = "${var.name}-eval"
  user_pool_id                         = local.user_pool_id
  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = false
  supported_identity_providers         = ["COGNITO"]
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
  access_token_validity                = var.eval_token_validity_minutes
  id_token_validity                    = var.eval_token_validity_minutes
  refresh_token_validity               = 1

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }

  lifecycle {
    precondition {
      condition     = local.create_pool
      error_message = "eval_client_enabled needs the user pool this module creates: the trigger that gives the eval client's tokens the API scopes is pool configuration. On an existing pool, its owner adds the client and the trigger."
    }
  }
}

resource "aws_cognito_user_pool_domain" "this" {
  count = local.create_domain ? 1 : 0

  domain                = local.domain_prefix
  user_pool_id          = local.user_pool_id
  managed_login_version = 1 # the classic hosted UI: needs no branding resource

  lifecycle {
    precondition {
      condition     = length(local.domain_prefix) <= 63 && can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", local.domain_prefix)) && !can(regex("aws|amazon|cognito", local.domain_prefix))
      error_message = "The hosted UI domain prefix must be 1-63 lowercase letters, digits and hyphens without 'aws', 'amazon' or 'cognito': set domain_prefix (the name-derived one does not qualify)."
    }
  }
}

resource "aws_cognito_user_group" "this" {
  for_each = var.groups

  name         = each.key
  user_pool_id = local.user_pool_id
  description  = each.value.description
  precedence   = each.value.precedence
}

# Members may read the audit trail (GET /api/audit, AUDIT_ADMIN_GROUP); anyone else gets a 404 there.
# Only where an audit route exists (pattern 3), and never on a pool that already has the group.
resource "aws_cognito_user_group" "audit_admins" {
  count = var.audit_admin_group == null ? 0 : 1

  name         = var.audit_admin_group
  user_pool_id = local.user_pool_id
  description  = "May read the audit trail of every user (GET /api/audit)"
  precedence   = 0
}

# Stacks applied before the group became optional keep it (pattern 3) instead of replacing it.
moved {
  from = aws_cognito_user_group.audit_admins
  to   = aws_cognito_user_group.audit_admins[0]
}
