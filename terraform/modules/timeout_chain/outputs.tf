output "api_integration_ms" {
  description = "Integration timeout for the front door (integration_timeout_ms)."
  value       = var.api_integration_ms

  precondition {
    condition     = var.streaming || var.api_integration_ms > var.lambda_seconds * 1000
    error_message = "api_integration_ms must be above lambda_seconds * 1000, or API Gateway cuts the Lambda off with a bare 504."
  }

  precondition {
    condition     = var.api_integration_ms > var.conversations_lambda_seconds * 1000
    error_message = "api_integration_ms must be above conversations_lambda_seconds * 1000."
  }
}

output "lambda_seconds" {
  description = "Chat Lambda timeout (timeout_seconds)."
  value       = var.lambda_seconds

  precondition {
    condition     = var.lambda_seconds >= var.agent_total_seconds + local.answer_margin_seconds
    error_message = "lambda_seconds must be at least agent_total_seconds + 2: all the client's attempts end by agent_total_seconds, and the Lambda needs the rest to answer a clear 504 before it is killed (502)."
  }
}

output "agent_total_seconds" {
  description = "AGENT_TOTAL_TIMEOUT_SECONDS of the chat Lambda."
  value       = var.agent_total_seconds

  precondition {
    condition     = var.agent_total_seconds >= local.one_attempt_seconds
    error_message = "agent_total_seconds must be at least agent_connect_seconds + agent_read_seconds: one whole attempt must fit in the deadline."
  }
}

output "agent_connect_seconds" {
  description = "AGENT_CONNECT_TIMEOUT_SECONDS of the chat Lambda."
  value       = var.agent_connect_seconds
}

output "agent_read_seconds" {
  description = "AGENT_READ_TIMEOUT_SECONDS of the chat Lambda."
  value       = var.agent_read_seconds
}

output "agent_max_attempts" {
  description = "AGENT_MAX_ATTEMPTS of the chat Lambda."
  value       = var.agent_max_attempts
}

output "conversations_lambda_seconds" {
  description = "Conversations Lambda timeout (timeout_seconds)."
  value       = var.conversations_lambda_seconds
}

output "delete_deadline_seconds" {
  description = "DELETE_DEADLINE_SECONDS of the conversations Lambda (its timeout - 3 s)."
  value       = local.delete_deadline_seconds
}

output "chat_lambda_seconds" {
  description = "The chat Lambda's timeout (timeout_seconds): lambda_seconds, or stream_lambda_seconds when its routes stream."
  value       = var.streaming ? var.stream_lambda_seconds : var.lambda_seconds

  precondition {
    condition     = !var.streaming || var.stream_integration_ms > var.stream_lambda_seconds * 1000
    error_message = "stream_integration_ms must be above stream_lambda_seconds * 1000: the function ends a stream with an error event before API Gateway cuts it."
  }

  precondition {
    condition     = !var.streaming || var.stream_lambda_seconds >= var.agent_total_seconds + local.answer_margin_seconds
    error_message = "stream_lambda_seconds must be at least agent_total_seconds + 2: a streamed turn's connection attempts end by agent_total_seconds, like a buffered one's."
  }

  precondition {
    condition     = !var.streaming || var.stream_lambda_seconds >= var.agent_read_seconds + local.answer_margin_seconds + 1
    error_message = "stream_lambda_seconds must be at least agent_read_seconds + 3: a silent agent is detected (read timeout) with time left to send the error event and store nothing half-way."
  }
}

output "stream_integration_ms" {
  description = "Timeout of the STREAM routes (the front door's stream_timeout_ms)."
  value       = var.stream_integration_ms
}
