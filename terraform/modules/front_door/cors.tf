# Preflight: OPTIONS on every routed path, answered by API Gateway itself (MOCK), never authorized:
# a browser sends no Authorization header on a preflight request.
resource "aws_api_gateway_method" "options" {
  #checkov:skip=CKV_AWS_59:CORS preflight requests carry no credentials; the authorizer must not run on OPTIONS.
  #checkov:skip=CKV2_AWS_53:A MOCK preflight has no body or parameters to validate.
  for_each = local.cors_paths

  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = local.resource_ids[each.key]
  http_method   = "OPTIONS"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "options" {
  for_each = local.cors_paths

  rest_api_id       = aws_api_gateway_rest_api.this.id
  resource_id       = aws_api_gateway_method.options[each.key].resource_id
  http_method       = aws_api_gateway_method.options[each.key].http_method
  type              = "MOCK"
  request_templates = { "application/json" = jsonencode({ statusCode = 200 }) }
}

resource "aws_api_gateway_method_response" "options" {
  for_each = local.cors_paths

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = aws_api_gateway_method.options[each.key].resource_id
  http_method = aws_api_gateway_method.options[each.key].http_method
  status_code = "204"

  response_parameters = {
    "method.response.header.Access-Control-Allow-Headers" = true
    "method.response.header.Access-Control-Allow-Methods" = true
    "method.response.header.Access-Control-Allow-Origin"  = true
    "method.response.header.Access-Control-Max-Age"       = true
    "method.response.header.Vary"                         = true
  }
}

resource "aws_api_gateway_integration_response" "options" {
  for_each = local.cors_paths

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = aws_api_gateway_method.options[each.key].resource_id
  http_method = aws_api_gateway_method.options[each.key].http_method
  status_code = aws_api_gateway_method_response.options[each.key].status_code

  response_parameters = {
    "method.response.header.Access-Control-Allow-Headers" = "'${join(",", var.cors_allow_headers)}'"
    "method.response.header.Access-Control-Allow-Methods" = "'${join(",", concat(each.value, ["OPTIONS"]))}'"
    "method.response.header.Access-Control-Allow-Origin"  = "'${local.cors_origin}'"
    "method.response.header.Access-Control-Max-Age"       = "'600'"
    "method.response.header.Vary"                         = "'Origin'"
  }

  # With several allowed origins, the preflight answers the request's own Origin when it is listed.
  response_templates = local.multi_origins ? { "application/json" = local.cors_echo } : null

  depends_on = [aws_api_gateway_integration.options]
}

# Errors API Gateway answers itself (no token, wrong scope, throttled, too large, timeout) carry the
# CORS headers too, or the browser hides the real status behind a CORS error; bodies use the same
# JSON shape as the Lambdas' errors.
locals {
  gateway_responses = {
    DEFAULT_4XX                    = { status = null, code = "bad_request" }
    DEFAULT_5XX                    = { status = null, code = "gateway_error" }
    UNAUTHORIZED                   = { status = "401", code = "unauthorized" }
    ACCESS_DENIED                  = { status = "403", code = "forbidden" }
    MISSING_AUTHENTICATION_TOKEN   = { status = "404", code = "not_found" }
    THROTTLED                      = { status = "429", code = "throttled" }
    REQUEST_TOO_LARGE              = { status = "413", code = "payload_too_large" }
    WAF_FILTERED                   = { status = "403", code = "blocked" }
    INTEGRATION_TIMEOUT            = { status = "504", code = "agent_timeout" }
    INTEGRATION_FAILURE            = { status = "503", code = "service_unavailable" } # a throttled Lambda (its 429) lands here: retry
    UNSUPPORTED_MEDIA_TYPE         = { status = "415", code = "unsupported_media_type" }
    BAD_REQUEST_BODY               = { status = "400", code = "bad_request" }
    INVALID_SIGNATURE              = { status = "403", code = "forbidden" }
    EXPIRED_TOKEN                  = { status = "401", code = "unauthorized" }
    AUTHORIZER_CONFIGURATION_ERROR = { status = "500", code = "gateway_error" }
  }
}

resource "aws_api_gateway_gateway_response" "this" {
  for_each = local.gateway_responses

  rest_api_id   = aws_api_gateway_rest_api.this.id
  response_type = each.key
  status_code   = each.value.status

  # Gateway responses cannot run a template that checks the list: with several allowed origins they
  # echo the request's Origin (their bodies are the gateway's own error messages, no user data).
  response_parameters = {
    "gatewayresponse.header.Access-Control-Allow-Origin"  = local.multi_origins ? "method.request.header.Origin" : "'${local.cors_origin}'"
    "gatewayresponse.header.Access-Control-Allow-Headers" = "'${join(",", var.cors_allow_headers)}'"
    "gatewayresponse.header.Vary"                         = "'Origin'"
    "gatewayresponse.header.Retry-After"                  = each.key == "INTEGRATION_FAILURE" ? "'1'" : null
  }

  response_templates = {
    "application/json" = "{\"error\":{\"code\":\"${each.value.code}\",\"message\":$context.error.messageString,\"request_id\":\"$context.requestId\"}}"
  }
}
