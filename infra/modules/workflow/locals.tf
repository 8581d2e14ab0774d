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

  # The templatefile() variables; the local runtime builds the same map (aslTemplateVariables)
  # and a test proves both renderings byte-identical.
  template_variables = merge(
    { for step in keys(local.contract.steps) : "${step}_function_arn" => try(var.function_arns[step], "") },
    { for step in keys(local.contract.steps) : "${step}_retry_errors" => jsonencode(local.retry_errors[step]) },
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
