output "alarm_names" {
  description = "Names of the alarms, by what they watch."
  value = merge(
    {
      api_5xx               = aws_cloudwatch_metric_alarm.api_5xx.alarm_name
      quota_charge_failures = aws_cloudwatch_metric_alarm.quota_charge_failures.alarm_name
      agent_errors          = aws_cloudwatch_metric_alarm.agent_errors.alarm_name
    },
    { for key, alarm in aws_cloudwatch_metric_alarm.throttles : "${key}_throttles" => alarm.alarm_name },
    { for key, alarm in aws_cloudwatch_metric_alarm.iterator_age : "${key}_iterator_age" => alarm.alarm_name },
  )
}
