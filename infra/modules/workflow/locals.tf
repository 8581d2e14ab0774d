locals {
  # The workflow contract: steps, Lambda defaults, error kinds, retry policy, workflow type.
  # The TypeScript reads the same file (@imgflow/contract); nothing here repeats it.
  contract = jsondecode(file("${path.module}/contract.json"))

  type = coalesce(var.type, local.contract.workflow.default_type)

  retry = {
    interval_seconds  = coalesce(var.retry.interval_seconds, local.contract.retry.interval_seconds)
    max_attempts      = coalesce(var.retry.max_attempts, local.contract.retry.max_attempts)
    backoff_rate      = coalesce(var.retry.backoff_rate, local.contract.retry.backoff_rate)
    max_delay_seconds = coalesce(var.retry.max_delay_seconds, local.contract.retry.max_delay_seconds)
  }

  # A step's Task retries its own errors of kind "retry", then the platform's (same rule as
  # retryErrors() in packages/contract).
  retry_errors = {
    for step, definition in local.contract.steps : step => [
      for error in concat(definition.errors, local.contract.platform_errors) : error if local.contract.errors[error].kind == "retry"
    ]
  }

  # Each Task's TimeoutSeconds: its function's timeout plus the contract's margin, so Lambda's own
  # timeout (Sandbox.Timedout) fires first, as taskTimeoutSeconds() in packages/contract.
  task_timeouts = {
    for step, definition in local.contract.steps : step => ceil(coalesce(lookup(var.function_timeouts, step, null), definition.timeout_seconds)) + local.contract.workflow.task_timeout_margin_seconds
  }

  # The longest one execution can take (worstCaseSeconds() in packages/contract): along the
  # longest path, every attempt of every Task to its TimeoutSeconds plus every backoff pause.
  backoff_seconds = sum(concat([0], [for attempt in range(local.retry.max_attempts) : min(local.retry.interval_seconds * pow(local.retry.backoff_rate, attempt), local.retry.max_delay_seconds)]))
  task_worst_case = { for step, seconds in local.task_timeouts : step => seconds * (local.retry.max_attempts + 1) + local.backoff_seconds }
  worst_case_seconds = (local.task_worst_case.validate + max(local.task_worst_case.resize, local.task_worst_case.filter)
  + local.task_worst_case.optimize + local.task_worst_case.notify)
  max_duration_seconds = local.contract.workflow.max_duration_seconds[local.type]

  # The templatefile() variables; the local runtime builds the same map (aslTemplateVariables)
  # and a test proves both renderings byte-identical.
  template_variables = merge(
    { for step in keys(local.contract.steps) : "${step}_function_arn" => try(var.function_arns[step], "") },
    { for step in keys(local.contract.steps) : "${step}_retry_errors" => jsonencode(local.retry_errors[step]) },
    { for step in keys(local.contract.steps) : "${step}_task_timeout_seconds" => local.task_timeouts[step] },
    {
      catch_errors            = jsonencode(local.contract.workflow.catch_errors)
      retry_interval_seconds  = local.retry.interval_seconds
      retry_max_attempts      = local.retry.max_attempts
      retry_backoff_rate      = local.retry.backoff_rate
      retry_max_delay_seconds = local.retry.max_delay_seconds
      retry_jitter_strategy   = local.contract.retry.jitter_strategy
    },
  )

  definition = templatefile("${path.module}/imgflow.asl.json.tftpl", local.template_variables)

  invoked_function_arns = values(var.function_arns)
}

locals {
  role_name = "${var.name}-workflow-${data.aws_region.current.name}"
  role_arn  = var.create_role ? aws_iam_role.this[0].arn : var.existing_role_arn
}
