locals {
  tags          = { project = "agentarch", pattern = "2-secure", agentarch-stack = var.name } # the last is the budget's cost allocation tag
  artifacts_dir = coalesce(var.artifacts_dir, "${path.root}/../../../lambda_build/dist")
  agent_name    = replace(var.name, "-", "_") # AgentCore names refuse hyphens
  redirect_uri  = "${var.web_origin}/"

  metrics_namespace    = "agentarch/${var.name}" # the stack's own: its alarms see only its functions' metrics
  max_body_bytes       = 32768                   # one value for WAF's body-size rule and the Lambdas' MAX_BODY_BYTES
  audit_retention_days = 400                     # a session's audit records are kept this long after its first one

  # The IAM actions the chat Lambda gets: exactly the boto3 calls its code (and Powertools'
  # idempotency layer) makes; a contract test derives them from the sources and compares.
  chat_quota_actions       = ["dynamodb:GetItem", "dynamodb:UpdateItem"]                                            # admit (conditional), charge, usage
  chat_idempotency_actions = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"] # Powertools' DynamoDBPersistenceLayer
}

# The timeout chain, checked in one place: API Gateway 29 s > Lambda 28 s >= agent deadline 25 s + 2 s.
locals {
  # The chat function's routes stream when chat_streaming is on (all of its routes: the Web Adapter
  # serves the whole function). The adapter's public layer, unless another is named.
  chat_transfer_mode    = var.chat_streaming ? "STREAM" : "BUFFERED"
  web_adapter_layer_arn = coalesce(var.lambda_web_adapter_layer_arn, "arn:aws:lambda:${var.region}:753240598075:layer:LambdaAdapterLayerArm64:25")
}

module "timeouts" {
  source = "../../modules/timeout_chain"

  streaming = var.chat_streaming
}

module "identity" {
  source = "../../modules/identity"

  name                = var.name
  callback_urls       = [local.redirect_uri]
  logout_urls         = [local.redirect_uri]
  deletion_protection = "INACTIVE"

  # `agentarch eval --against` this stack (off by default): a dedicated SRP client whose access
  # tokens the eval scopes trigger gives the API scopes; the pool moves to the Essentials plan.
  eval_client_enabled                = var.eval_client_enabled
  pre_token_generation_function_name = var.eval_client_enabled ? local.eval_scopes_function_name : null
}

# The runtime has no authorizer: IAM (SigV4) inbound auth. Only the chat Lambda's role may invoke it,
# so a user token sent straight to the runtime is refused.
module "runtime" {
  source = "../../modules/agent_runtime"

  name             = local.agent_name
  artifact_path    = "${local.artifacts_dir}/agent.zip"
  bedrock_model_id = var.bedrock_model_id
  policy_mode      = var.policy_mode

  # Defence in depth: a resource policy on the runtime denies every principal but the chat Lambda's
  # role, so another role of the account with broad InvokeAgentRuntime rights is refused too.
  restrict_invokers = true
  invoker_role_arns = [module.chat.role_arn]

  # Tool-call records: no conversations here, but the same append-only audit trail as pattern 3
  # (PutItem conditioned, Query the chain's head when it was not handed along) and its HMAC key.
  policy_statements = [
    {
      sid        = "AuditAppend"
      actions    = ["dynamodb:PutItem"]
      resources  = [module.audit_trail.table_arn]
      conditions = module.audit_trail.put_conditions
    },
    {
      sid       = "AuditChainHead"
      actions   = ["dynamodb:Query"]
      resources = [module.audit_trail.table_arn]
    },
    {
      sid       = "AuditArgumentKey"
      actions   = ["kms:GenerateMac"]
      resources = [module.audit_trail.argument_key_arn]
    },
    {
      # The kill switch: read before each model call and each tool call.
      sid       = "ReadLocks"
      actions   = ["dynamodb:BatchGetItem"]
      resources = [module.kill_switch.table_arn]
    },
  ]

  environment_variables = {
    MODEL_PROVIDER       = "bedrock"
    BEDROCK_MODEL_ID     = var.bedrock_model_id
    BEDROCK_REGION       = var.region
    AUDIT_BACKEND        = "aws"
    AUDIT_TABLE          = module.audit_trail.table_name
    AUDIT_RETENTION_DAYS = tostring(local.audit_retention_days)
    AUDIT_KEY_ID         = module.audit_trail.argument_key_arn
    LOCKS_TABLE          = module.kill_switch.table_name
  }
}

# The kill switch's locks table. With no audit Lambda here, an admin locks and unlocks with the CLI:
# `agentarch policy lock --user <sub> --table <locks table> --audit-table <audit table> --runtime-arn …`.
module "kill_switch" {
  source = "../../modules/kill_switch"

  name                = var.name
  deletion_protection = false
  tags                = local.tags
}

# The audit trail: evidence does not depend on conversations, so the recommended start keeps one too.
module "audit_trail" {
  source = "../../modules/audit"

  name                      = var.name
  retention_days            = local.audit_retention_days
  deletion_protection       = false
  checkpoint_retention_days = local.audit_retention_days
  checkpoint_retention_mode = "GOVERNANCE" # COMPLIANCE: nobody may delete a checkpoint early (README, "The notary")
}

# The notary: its own function and role, fed by the audit table's stream; no writer may sign or
# write checkpoints.
module "notary" {
  source = "../../modules/lambda_function"

  name                     = "${var.name}-notary"
  description              = "Signs the audit trail's chain heads (DynamoDB stream) into Object Lock checkpoints"
  artifact_path            = "${local.artifacts_dir}/notary.zip"
  handler                  = "agentarch.handlers.notary.lambda_handler"
  powertools_layer_version = var.powertools_layer_version
  botocore_data_path       = false # KMS and S3 as the Lambda runtime's boto3 knows them
  timeout_seconds          = 25    # a batch: one KMS Sign and two S3 calls

  environment = {
    NOTARY_KEY_ID           = module.audit_trail.notary_key_arn
    NOTARY_BUCKET           = module.audit_trail.checkpoint_bucket_name
    POWERTOOLS_SERVICE_NAME = "notary"
    POWERTOOLS_LOG_LEVEL    = "INFO"
  }

  policy_statements = module.audit_trail.notary_policy_statements
  stream_sources    = { audit = { event_source_arn = module.audit_trail.stream_arn, batching_window_seconds = 60 } }
}

# Per-user daily quotas and idempotent retries (two tables), and the optional budget and token alarm.
module "limits" {
  source = "../../modules/spend_limits"

  name                         = var.name
  chat_quotas                  = var.chat_quotas
  deletion_protection          = false
  monthly_budget_usd           = var.monthly_budget_usd
  budget_scope                 = var.budget_scope
  hourly_token_alarm_threshold = var.hourly_token_alarm_threshold
  bedrock_model_id             = var.bedrock_model_id
  alert_emails                 = var.alert_emails
  tags                         = local.tags
}

module "chat" {
  source = "../../modules/lambda_function"

  name                      = "${var.name}-chat"
  description               = "POST /api/chat: validates, derives the actor from the token, invokes the agent with SigV4"
  artifact_path             = "${local.artifacts_dir}/chat.zip"
  handler                   = "agentarch.handlers.chat.lambda_handler"
  powertools_layer_version  = var.powertools_layer_version
  timeout_seconds           = module.timeouts.chat_lambda_seconds
  api_gateway_execution_arn = module.front_door.execution_arn
  api_gateway_routes        = { chat = "POST/api/chat", usage = "GET/api/usage" } # exactly its routes
  # Streamed answers: the Web Adapter serves the zip's run.sh (every route of the function).
  response_streaming = var.chat_streaming ? { web_adapter_layer_arn = local.web_adapter_layer_arn } : null

  # The cap on every user together: at most this many agent turns at once (see the variable's cost note).
  reserved_concurrent_executions = var.chat_reserved_concurrency

  environment = {
    AGENT_RUNTIME_ARN             = module.runtime.runtime_arn
    AGENT_RUNTIME_QUALIFIER       = "DEFAULT"
    AGENT_TOTAL_TIMEOUT_SECONDS   = tostring(module.timeouts.agent_total_seconds)
    AGENT_CONNECT_TIMEOUT_SECONDS = tostring(module.timeouts.agent_connect_seconds)
    AGENT_READ_TIMEOUT_SECONDS    = tostring(module.timeouts.agent_read_seconds)
    AGENT_MAX_ATTEMPTS            = tostring(module.timeouts.agent_max_attempts)
    ALLOWED_ORIGINS               = var.web_origin
    MAX_BODY_BYTES                = tostring(local.max_body_bytes)
    GOVERNANCE_BACKEND            = "aws"
    QUOTAS_TABLE                  = module.limits.quotas_table_name
    IDEMPOTENCY_TABLE             = module.limits.idempotency_table_name
    CHAT_QUOTAS                   = module.limits.chat_quotas_json
    AUDIT_BACKEND                 = "aws"
    AUDIT_TABLE                   = module.audit_trail.table_name
    AUDIT_RETENTION_DAYS          = tostring(local.audit_retention_days)
    LOCKS_TABLE                   = module.kill_switch.table_name
    POWERTOOLS_SERVICE_NAME       = "chat"
    POWERTOOLS_METRICS_NAMESPACE  = local.metrics_namespace
    POWERTOOLS_LOG_LEVEL          = "INFO"
  }

  policy_statements = [
    {
      sid       = "InvokeAgentRuntime"
      actions   = ["bedrock-agentcore:InvokeAgentRuntime"]
      resources = [module.runtime.runtime_arn, "${module.runtime.runtime_arn}/runtime-endpoint/*"]
    },
    {
      sid       = "QuotaCounters"
      actions   = local.chat_quota_actions
      resources = [module.limits.quotas_table_arn]
    },
    {
      sid       = "IdempotencyRecords"
      actions   = local.chat_idempotency_actions
      resources = [module.limits.idempotency_table_arn]
    },
    # Turn records: append-only, as the runtime's.
    {
      sid        = "AuditAppend"
      actions    = ["dynamodb:PutItem"]
      resources  = [module.audit_trail.table_arn]
      conditions = module.audit_trail.put_conditions
    },
    {
      sid       = "AuditChainHead"
      actions   = ["dynamodb:Query"]
      resources = [module.audit_trail.table_arn]
    },
    {
      # The kill switch: read before each new turn.
      sid       = "ReadLocks"
      actions   = ["dynamodb:BatchGetItem"]
      resources = [module.kill_switch.table_arn]
    },
  ]
}

module "front_door" {
  source = "../../modules/front_door"

  name                   = var.name
  user_pool_arn          = module.identity.user_pool_arn
  authorization_scopes   = [module.identity.api_scope]
  allowed_origins        = [var.web_origin]
  integration_timeout_ms = module.timeouts.api_integration_ms
  stream_timeout_ms      = module.timeouts.stream_integration_ms
  max_body_bytes         = local.max_body_bytes
  logging_enabled        = var.api_gateway_logging
  log_kms_key_arn        = var.log_kms_key_arn

  routes = {
    chat  = { path = "/api/chat", method = "POST", lambda_invoke_arn = module.chat.invoke_arn, relax_waf_body_rules = true, transfer_mode = local.chat_transfer_mode }
    usage = { path = "/api/usage", method = "GET", lambda_invoke_arn = module.chat.invoke_arn, transfer_mode = local.chat_transfer_mode }
  }
}

# Alarms on what matters once it runs (API 5xx, throttles, uncharged turns, agent errors), notifying
# the budget's topic; README.md, "Alarms and what to do", says what each means and what to check.
module "alarms" {
  source = "../../modules/alarms"

  name              = var.name
  alarm_topic_arn   = module.limits.alerts_topic_arn
  api_name          = module.front_door.api_name
  stage_name        = module.front_door.stage_name
  metrics_namespace = local.metrics_namespace
  tags              = local.tags

  function_names = {
    chat   = module.chat.function_name
    notary = module.notary.function_name
  }
  stream_consumers = { notary = module.notary.function_name } # IteratorAge: the notary falling behind
}

locals {
  eval_scopes_function_name = "${var.name}-eval-scopes" # named, not referenced, by the pool (see modules/identity)
}

# The eval client's pre token generation trigger and Cognito's permission to invoke it
# (eval_client_enabled): adds the API scopes to the access tokens Cognito issues to that client.
module "eval_sign_in" {
  count  = var.eval_client_enabled ? 1 : 0
  source = "../../modules/eval_sign_in"

  function_name            = local.eval_scopes_function_name
  artifact_path            = "${local.artifacts_dir}/eval_scopes.zip"
  powertools_layer_version = var.powertools_layer_version
  eval_client_id           = module.identity.eval_client_id
  api_scopes               = module.identity.api_scopes
  user_pool_arn            = module.identity.user_pool_arn
}

moved {
  from = module.eval_scopes[0]
  to   = module.eval_sign_in[0].module.function
}

moved {
  from = aws_lambda_permission.eval_scopes[0]
  to   = module.eval_sign_in[0].aws_lambda_permission.cognito
}
