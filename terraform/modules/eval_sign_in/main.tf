# The pre token generation trigger of the eval client: adds the API scopes to the access tokens
# Cognito issues to that client, and changes no other token.
module "function" {
  source = "../lambda_function"

  name                     = var.function_name
  description              = "Cognito pre token generation trigger: the API scopes in the eval client's access tokens"
  artifact_path            = var.artifact_path
  handler                  = "agentarch.handlers.eval_scopes.lambda_handler"
  powertools_layer_version = var.powertools_layer_version
  botocore_data_path       = false # calls no AWS API
  timeout_seconds          = 5     # Cognito waits 5 s for a trigger
  tags                     = var.tags

  environment = {
    EVAL_CLIENT_ID          = var.eval_client_id
    EVAL_CLIENT_SCOPES      = join(" ", var.api_scopes)
    POWERTOOLS_SERVICE_NAME = "eval_scopes"
    POWERTOOLS_LOG_LEVEL    = "INFO"
  }
}

# Only Cognito, from this pool, may invoke it.
resource "aws_lambda_permission" "cognito" {
  statement_id  = "CognitoPreTokenGeneration"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  principal     = "cognito-idp.amazonaws.com"
  source_arn    = var.user_pool_arn
}
