locals {
  tags          = { project = "agentarch", pattern = "3-full", agentarch-stack = var.name } # the last is the budget's cost allocation tag
  artifacts_dir = coalesce(var.artifacts_dir, "${path.root}/../../../lambda_build/dist")
  agent_name    = replace(var.name, "-", "_") # AgentCore names refuse hyphens
  redirect_uri  = "${var.web_origin}/"

  metrics_namespace        = "agentarch/${var.name}" # the stack's own: its alarms see only its functions' metrics
  max_body_bytes           = 32768                   # one value for WAF's body-size rule and the Lambdas' MAX_BODY_BYTES
  history_turns            = 10                      # past turns the agent reloads from Memory (1-50)
  memory_event_expiry_days = 30                      # Memory's event expiry, and the conversation index's TTL
  audit_retention_days     = 400                     # a session's audit records are kept this long after its first one
}

# The timeout chain, checked in one place: API Gateway 29 s > Lambda 28 s >= agent deadline 25 s + 2 s;
# the conversations Lambda (28 s) deletes Memory events until 3 s before its timeout.
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
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  audit_admin_group   = "audit-admins" # GET /api/audit answers its members only

  # `agentarch eval --against` this stack (off by default): a dedicated SRP client whose access
  # tokens the eval scopes trigger gives the API scopes; the pool moves to the Essentials plan.
  eval_client_enabled                = var.eval_client_enabled
  pre_token_generation_function_name = var.eval_client_enabled ? local.eval_scopes_function_name : null
}

# The IAM actions each function gets: exactly the boto3 calls its code makes (a contract test
# derives them from the Python sources and compares).
locals {
  chat_table_actions           = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
  chat_memory_actions          = ["bedrock-agentcore:CreateEvent", "bedrock-agentcore:DeleteEvent", "bedrock-agentcore:ListEvents"] # the one writer; a turn whose conversation was deleted meanwhile removes what it wrote
  conversations_table_actions  = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"]               # delete leaves a tombstone
  conversations_memory_actions = ["bedrock-agentcore:DeleteEvent", "bedrock-agentcore:ListEvents"]
  runtime_memory_actions       = ["bedrock-agentcore:ListEvents"]                                                       # the agent only reloads turns
  runtime_tickets_actions      = ["dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"]                           # create_ticket puts, search_tickets scans, comment_on_ticket appends
  runtime_counts_actions       = ["dynamodb:GetItem", "dynamodb:UpdateItem"]                                            # a session's call counts: read, then counted compare-and-set as a call runs
  chat_quota_actions           = ["dynamodb:GetItem", "dynamodb:UpdateItem"]                                            # admit (conditional), charge, usage
  chat_idempotency_actions     = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"] # Powertools' DynamoDBPersistenceLayer
}

module "data" {
  source = "../../modules/data"

  name                = var.name
  deletion_protection = var.deletion_protection
}

module "audit_trail" {
  source = "../../modules/audit"

  name                = var.name
  retention_days      = local.audit_retention_days
  deletion_protection = var.deletion_protection
  # Checkpoints stay as long as the records they sign; GOVERNANCE lets an administrator tear a demo
  # down, COMPLIANCE lets nobody delete them early (README, "The notary").
  checkpoint_retention_days = local.audit_retention_days
  checkpoint_retention_mode = "GOVERNANCE"
}

# The notary: its own function and role, fed by the audit table's stream. It alone may sign with the
# notary key and write the checkpoint bucket; no writer (chat, runtime) is granted either.
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
  # Every changed session is signed at least once a minute; a failed batch is retried whole.
  stream_sources = { audit = { event_source_arn = module.audit_trail.stream_arn, batching_window_seconds = 60 } }
}

module "memory" {
  source = "../../modules/agent_memory"

  name              = "${local.agent_name}_memory"
  event_expiry_days = local.memory_event_expiry_days
}

# The runtime has no authorizer: IAM (SigV4) inbound auth. Only the chat Lambda's role may invoke it,
# so a user token sent straight to the runtime is refused.
module "runtime" {
  source = "../../modules/agent_runtime"

  name             = local.agent_name
  artifact_path    = "${local.artifacts_dir}/agent.zip"
  bedrock_model_id = var.bedrock_model_id
  memory_arn       = module.memory.memory_arn
  memory_actions   = local.runtime_memory_actions
  policy_mode      = var.policy_mode

  # Defence in depth: a resource policy on the runtime denies every principal but the chat Lambda's
  # role, so another role of the account with broad InvokeAgentRuntime rights is refused too.
  restrict_invokers = true
  invoker_role_arns = [module.chat.role_arn]

  policy_statements = [
    # The agent's one write of business data: the tickets its create_ticket tool opens.
    {
      sid       = "Tickets"
      actions   = local.runtime_tickets_actions
      resources = [module.data.tickets_table_arn]
    },
    # The session's tool-call counts (the conversation item): a cap such as "three tickets per
    # conversation" is counted at the moment a call runs, so concurrent turns cannot exceed it.
    {
      sid       = "SessionCallCounts"
      actions   = local.runtime_counts_actions
      resources = [module.data.conversations_table_arn]
    },
    # Tool-call records: the agent appends to the audit trail and digests arguments with the HMAC key.
    # The audit trail is append-only: PutItem (conditioned) and Query the chain's head, never
    # UpdateItem or DeleteItem.
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
      resources = [module.data.locks_table_arn]
    },
  ]

  environment_variables = {
    MODEL_PROVIDER       = "bedrock"
    BEDROCK_MODEL_ID     = var.bedrock_model_id
    BEDROCK_REGION       = var.region
    STORAGE_BACKEND      = "aws"
    MEMORY_ID            = module.memory.memory_id
    HISTORY_TURNS        = tostring(local.history_turns)
    TICKETS_TABLE        = module.data.tickets_table_name
    CONVERSATIONS_TABLE  = module.data.conversations_table_name
    AUDIT_TABLE          = module.audit_trail.table_name
    AUDIT_RETENTION_DAYS = tostring(local.audit_retention_days)
    AUDIT_KEY_ID         = module.audit_trail.argument_key_arn
    LOCKS_TABLE          = module.data.locks_table_name
  }
}

# Per-user daily quotas and idempotent retries (two tables), and the optional budget and token alarm.
module "limits" {
  source = "../../modules/spend_limits"

  name                         = var.name
  chat_quotas                  = var.chat_quotas
  deletion_protection          = var.deletion_protection
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
  description               = "POST /api/chat: validates, owns the conversation index, invokes the agent with SigV4"
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
    STORAGE_BACKEND               = "aws"
    CONVERSATIONS_TABLE           = module.data.conversations_table_name
    MEMORY_ID                     = module.memory.memory_id
    CONVERSATION_EXPIRY_DAYS      = tostring(local.memory_event_expiry_days)
    GOVERNANCE_BACKEND            = "aws"
    QUOTAS_TABLE                  = module.limits.quotas_table_name
    IDEMPOTENCY_TABLE             = module.limits.idempotency_table_name
    CHAT_QUOTAS                   = module.limits.chat_quotas_json
    AUDIT_TABLE                   = module.audit_trail.table_name
    AUDIT_RETENTION_DAYS          = tostring(local.audit_retention_days)
    LOCKS_TABLE                   = module.data.locks_table_name
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
    {
      sid       = "ConversationIndex"
      actions   = local.chat_table_actions
      resources = [module.data.conversations_table_arn]
    },
    {
      sid       = "MemoryEvents"
      actions   = local.chat_memory_actions
      resources = [module.memory.memory_arn]
    },
    # The audit trail is append-only: PutItem (conditioned) and Query the chain's head, never
    # UpdateItem or DeleteItem.
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
      resources = [module.data.locks_table_arn]
    },
  ]
}

module "conversations" {
  source = "../../modules/lambda_function"

  name                      = "${var.name}-conversations"
  description               = "GET/DELETE /api/conversations: a user's conversations and their history"
  artifact_path             = "${local.artifacts_dir}/conversations.zip"
  handler                   = "agentarch.handlers.conversations.lambda_handler"
  powertools_layer_version  = var.powertools_layer_version
  timeout_seconds           = module.timeouts.conversations_lambda_seconds
  api_gateway_execution_arn = module.front_door.execution_arn
  api_gateway_routes        = { list = "GET/api/conversations", get = "GET/api/conversations/*", delete = "DELETE/api/conversations/*" }

  environment = {
    ALLOWED_ORIGINS              = var.web_origin
    MAX_BODY_BYTES               = tostring(local.max_body_bytes)
    STORAGE_BACKEND              = "aws"
    CONVERSATIONS_TABLE          = module.data.conversations_table_name
    MEMORY_ID                    = module.memory.memory_id
    DELETE_DEADLINE_SECONDS      = tostring(module.timeouts.delete_deadline_seconds)
    POWERTOOLS_SERVICE_NAME      = "conversations"
    POWERTOOLS_METRICS_NAMESPACE = local.metrics_namespace
    POWERTOOLS_LOG_LEVEL         = "INFO"
  }

  policy_statements = [
    {
      sid       = "ConversationIndex"
      actions   = local.conversations_table_actions
      resources = [module.data.conversations_table_arn, module.data.conversations_index_arn, module.data.sweep_index_arn]
    },
    {
      sid       = "MemoryEvents"
      actions   = local.conversations_memory_actions
      resources = [module.memory.memory_arn]
    },
  ]
}

# The sweep of deleted conversations: a chat Lambda that died between its Memory write and its index
# update, while the conversation was being deleted, could leave one turn's events behind the
# tombstone; every few minutes the conversations Lambda removes them (README, "Shared state").
resource "aws_cloudwatch_event_rule" "sweep" {
  name                = "${var.name}-sweep-deleted-conversations"
  description         = "agentarch: remove what a turn that died mid-write left behind a deleted conversation"
  schedule_expression = "rate(5 minutes)"
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "sweep" {
  rule = aws_cloudwatch_event_rule.sweep.name
  arn  = module.conversations.function_arn
}

resource "aws_lambda_permission" "sweep" {
  statement_id  = "SweepSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.conversations.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.sweep.arn
}

module "audit" {
  source = "../../modules/lambda_function"

  name                      = "${var.name}-audit"
  description               = "GET /api/audit and /api/admin/locks: the audit trail and the kill switch, for the audit admin group only"
  artifact_path             = "${local.artifacts_dir}/audit.zip"
  handler                   = "agentarch.handlers.audit.lambda_handler"
  powertools_layer_version  = var.powertools_layer_version
  timeout_seconds           = module.timeouts.conversations_lambda_seconds
  api_gateway_execution_arn = module.front_door.execution_arn
  api_gateway_routes = {
    list       = "GET/api/audit"
    list_locks = "GET/api/admin/locks"
    lock       = "POST/api/admin/locks"
    unlock     = "DELETE/api/admin/locks"
  }

  environment = {
    ALLOWED_ORIGINS              = var.web_origin
    MAX_BODY_BYTES               = tostring(local.max_body_bytes)
    STORAGE_BACKEND              = "aws"
    AUDIT_TABLE                  = module.audit_trail.table_name
    LOCKS_TABLE                  = module.data.locks_table_name
    AGENT_RUNTIME_ARN            = module.runtime.runtime_arn # a new lock stops its sessions in flight
    AUDIT_ADMIN_GROUP            = module.identity.audit_admin_group
    NOTARY_BUCKET                = module.audit_trail.checkpoint_bucket_name # read-only: each session's signed head
    NOTARY_KEY_ID                = module.audit_trail.notary_key_arn         # kms:Verify only, never Sign
    POWERTOOLS_SERVICE_NAME      = "audit"
    POWERTOOLS_METRICS_NAMESPACE = local.metrics_namespace
    POWERTOOLS_LOG_LEVEL         = "INFO"
  }

  # The trail, the notary's checkpoints and its public key, all read-only: a session's verification
  # state is what `agentarch audit verify` says. kms:Verify checks a signature (the zip carries no crypto
  # library); nothing here signs (kms:Sign) or writes the bucket.
  policy_statements = [
    {
      sid       = "AuditRead"
      actions   = ["dynamodb:Query", "dynamodb:Scan"] # Scan: the session's verification state
      resources = [module.audit_trail.table_arn, "${module.audit_trail.table_arn}/index/*"]
    },
    # Each lock and unlock is appended to the trail (append-only, as for every writer).
    {
      sid        = "AuditAppend"
      actions    = ["dynamodb:PutItem"]
      resources  = [module.audit_trail.table_arn]
      conditions = module.audit_trail.put_conditions
    },
    {
      sid       = "ManageLocks"
      actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"]
      resources = [module.data.locks_table_arn]
    },
    {
      sid       = "StopLockedSessions"
      actions   = ["bedrock-agentcore:StopRuntimeSession"]
      resources = [module.runtime.runtime_arn, "${module.runtime.runtime_arn}/runtime-endpoint/*"]
    },
    {
      sid       = "CheckpointRead"
      actions   = ["s3:GetObject"]
      resources = ["${module.audit_trail.checkpoint_bucket_arn}/checkpoints/*"]
    },
    {
      sid       = "CheckpointList"
      actions   = ["s3:ListBucket"]
      resources = [module.audit_trail.checkpoint_bucket_arn]
    },
    {
      sid       = "NotarySignatureCheck"
      actions   = ["kms:Verify"]
      resources = [module.audit_trail.notary_key_arn]
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
    chat                = { path = "/api/chat", method = "POST", lambda_invoke_arn = module.chat.invoke_arn, relax_waf_body_rules = true, transfer_mode = local.chat_transfer_mode }
    usage               = { path = "/api/usage", method = "GET", lambda_invoke_arn = module.chat.invoke_arn, transfer_mode = local.chat_transfer_mode }
    list_conversations  = { path = "/api/conversations", method = "GET", lambda_invoke_arn = module.conversations.invoke_arn }
    get_conversation    = { path = "/api/conversations/{session_id}", method = "GET", lambda_invoke_arn = module.conversations.invoke_arn }
    delete_conversation = { path = "/api/conversations/{session_id}", method = "DELETE", lambda_invoke_arn = module.conversations.invoke_arn }
    list_audit_records  = { path = "/api/audit", method = "GET", lambda_invoke_arn = module.audit.invoke_arn }
    list_locks          = { path = "/api/admin/locks", method = "GET", lambda_invoke_arn = module.audit.invoke_arn }
    create_lock         = { path = "/api/admin/locks", method = "POST", lambda_invoke_arn = module.audit.invoke_arn }
    delete_lock         = { path = "/api/admin/locks", method = "DELETE", lambda_invoke_arn = module.audit.invoke_arn }
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
    chat          = module.chat.function_name
    conversations = module.conversations.function_name
    audit         = module.audit.function_name
    notary        = module.notary.function_name
  }
  stream_consumers = { notary = module.notary.function_name } # IteratorAge: the notary falling behind
}

# agentarch's trajectory checks in AWS (off by default): the evaluator Lambda as a code-based AgentCore
# evaluator, and, with a sampling percentage, online evaluation of the runtime's sessions.
module "evaluator" {
  count  = var.evaluations_enabled ? 1 : 0
  source = "../../modules/lambda_function"

  name                     = "${var.name}-evaluator"
  description              = "AgentCore Evaluations code-based evaluator: agentarch's trajectory checks over a session's spans"
  artifact_path            = "${local.artifacts_dir}/evaluator.zip"
  handler                  = "agentarch.handlers.evaluator.lambda_handler"
  powertools_layer_version = var.powertools_layer_version
  botocore_data_path       = false # calls no AWS API
  timeout_seconds          = 60

  environment = {
    EVALUATOR_CONSEQUENTIAL_TOOLS = "create_ticket"
    POWERTOOLS_SERVICE_NAME       = "evaluator"
    POWERTOOLS_LOG_LEVEL          = "INFO"
  }
}

module "evaluations" {
  count  = var.evaluations_enabled ? 1 : 0
  source = "../../modules/evaluations"

  name                      = replace(var.name, "-", "_")
  evaluator_lambda_arn      = module.evaluator[0].function_arn
  online_evaluation_enabled = var.online_evaluation_sampling_percentage > 0
  sampling_percentage       = max(var.online_evaluation_sampling_percentage, 0.01)
  runtime_log_group_names   = [module.runtime.log_group_name, "aws/spans"]
  runtime_service_names     = ["${module.runtime.runtime_name}.DEFAULT"]
  tags                      = local.tags
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
