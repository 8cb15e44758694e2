# No resources: the timeout chain of the front door, the Lambdas and the agent client, checked in one
# place. Each output carries the preconditions that tie the numbers together, so a plan fails with a
# message before anything is created (cross-variable validation needs Terraform 1.9; this needs 1.2).
locals {
  one_attempt_seconds     = var.agent_connect_seconds + var.agent_read_seconds
  answer_margin_seconds   = 2 # after the client gives up: store the turn, answer a clear 504
  delete_margin_seconds   = 3 # after the delete deadline: answer before the Lambda is killed
  delete_deadline_seconds = var.conversations_lambda_seconds - local.delete_margin_seconds
}
