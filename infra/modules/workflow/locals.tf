locals {
  invoked_function_arns = values(var.function_arns)
}
