locals {
  # Defaults from the workflow contract (its backfill section): one place for each.
  contract                     = jsondecode(file("${path.module}/../workflow/contract.json"))
  max_concurrency              = coalesce(var.max_concurrency, local.contract.backfill.max_concurrency)
  tolerated_failure_percentage = coalesce(var.tolerated_failure_percentage, local.contract.backfill.tolerated_failure_percentage)
  report_prefix                = coalesce(var.report_prefix, local.contract.backfill.report_prefix)

  # From the function ARNs (arn:<partition>:lambda:<region>:<account>:function:<name>): no STS
  # call, and aws-cn / aws-us-gov deploy unchanged.
  function_arn_parts = split(":", values(var.function_arns)[0])
  partition          = local.function_arn_parts[1]
  account_id         = local.function_arn_parts[4]
  region             = data.aws_region.current.name

  state_machine_name = "${var.name}-backfill"
  # Built, not read from the resource: the role's policy names the state machine before it exists.
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"
  # The map run's child executions are named <state machine>/<map run label>:<id> (older
  # documentation) or <state machine>:<id>: both name executions of this state machine only.
  execution_arns = [
    "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.state_machine_name}:*",
    "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.state_machine_name}/*",
  ]

  role_name = "${var.name}-backfill-${data.aws_region.current.name}"
  role_arn  = var.create_role ? aws_iam_role.this[0].arn : var.existing_role_arn

  # The image workflow exactly as the workflow module rendered it (imgflow.asl.json.tftpl and
  # contract.json): its StartAt and States are the item processor.
  workflow = jsondecode(var.workflow_definition)

  # The functions the workflow's Task states invoke, at the top level and inside Parallel branches.
  workflow_function_arns = toset(concat(
    [for state in values(local.workflow.States) : state.Resource if state.Type == "Task"],
    flatten([
      for state in values(local.workflow.States) : [
        for branch in state.Branches : [for inner in values(branch.States) : inner.Resource if inner.Type == "Task"]
      ] if state.Type == "Parallel"
    ]),
  ))
  invoked_function_arns = values(var.function_arns)

  # Step Functions appends "/<map run id>/manifest.json" etc. to the ResultWriter's Prefix.
  report_key_prefix = trimsuffix(local.report_prefix, "/")

  # The templatefile() variables; the local runtime builds the same map (backfillTemplateVariables
  # in apps/local-runtime/src/backfill-asl.ts), strings JSON-encoded the way jsonencode() does.
  template_variables = {
    partition                    = local.partition
    account_id                   = local.account_id
    region                       = local.region
    upload_bucket_name           = var.upload_bucket_name
    default_prefix               = jsonencode(var.upload_key_prefix)
    report_bucket_name           = var.report_bucket_name
    report_prefix                = jsonencode(local.report_key_prefix)
    execution_type               = var.execution_type
    max_concurrency              = local.max_concurrency
    tolerated_failure_percentage = local.tolerated_failure_percentage
    item_processor_start_at      = jsonencode(local.workflow.StartAt)
    item_processor_states        = jsonencode(local.workflow.States)
  }

  definition = templatefile("${path.module}/backfill.asl.json.tftpl", local.template_variables)
}
