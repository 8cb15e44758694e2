output "api_url" {
  description = "Base URL of the API: POST /chat, POST /triage, GET /status below it."
  value       = "${module.front_door.api_url}/api"
}

output "client_id" {
  description = "The web client added to the platform's pool."
  value       = module.identity.client_id
}

output "runtime_arns" {
  description = "Both runtimes, by name."
  value       = { assistant = module.assistant.runtime_arn, triage = module.triage.runtime_arn }
}

output "artifact_keys" {
  description = "One object per runtime in the shared bucket."
  value       = [module.assistant.artifact_key, module.triage.artifact_key]
}
