locals {
  actions = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]

  workflow_alarms = {
    executions-failed = {
      description = "imgflow executions failed (jobs that ended FAILED, or whose notification could not be published)."
      namespace   = "AWS/States"
      metric_name = "ExecutionsFailed"
      dimensions  = { StateMachineArn = var.state_machine_arn }
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.executions_failed_threshold
    }
    executions-timed-out = {
      description = "imgflow executions timed out."
      namespace   = "AWS/States"
      metric_name = "ExecutionsTimedOut"
      dimensions  = { StateMachineArn = var.state_machine_arn }
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.executions_timed_out_threshold
    }
    dead-letters = {
      description = "Uploads whose event could not start an execution are waiting in the trigger's dead-letter queue."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = var.dead_letter_queue_name }
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = 0
    }
  }

  function_errors = {
    for step, function_name in var.function_names : "${step}-errors" => {
      description = "The imgflow ${step} function (${function_name}) returned errors."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = function_name }
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.function_errors_threshold
    }
  }

  function_throttles = {
    for step, function_name in var.function_names : "${step}-throttles" => {
      description = "The imgflow ${step} function (${function_name}) was throttled."
      namespace   = "AWS/Lambda"
      metric_name = "Throttles"
      dimensions  = { FunctionName = function_name }
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.function_throttles_threshold
    }
  }

  sweeper_alarms = var.sweeper == null ? {} : {
    sweep-errors = {
      description = "The imgflow sweeper (${var.sweeper.function_name}) failed: abandoned jobs may stay PROCESSING until it runs again."
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = var.sweeper.function_name }
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = var.function_errors_threshold
    }
    sweep-failures = {
      description = "The imgflow sweeper could not end or notify some jobs (its ERROR log lines); the next run retries them."
      namespace   = var.sweeper.error_metric.namespace
      metric_name = var.sweeper.error_metric.name
      dimensions  = {}
      statistic   = "Sum"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
    }
    sweeper-dead-letters = {
      description = "Scheduled events that could not invoke the sweeper are waiting in its dead-letter queue."
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = var.sweeper.dead_letter_queue_name }
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = 0
    }
  }

  alarms = merge(local.workflow_alarms, local.function_errors, local.function_throttles, local.sweeper_alarms)
}
