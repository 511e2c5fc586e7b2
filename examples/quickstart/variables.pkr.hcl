variable "app_name" {
  type        = string
  default     = "hello-kiln"
  description = "Name baked into every artifact."
}

variable "release" {
  type    = string
  default = "1.0.0"
}

variable "targets" {
  description = "One artifact per target environment."
  type = map(object({
    greeting = string
    replicas = optional(number, 1)
  }))
  default = {
    dev  = { greeting = "Hello from dev" }
    prod = { greeting = "Hello from prod", replicas = 3 }
  }
}

variable "api_token" {
  type      = string
  default   = "quickstart-demo-token"
  sensitive = true
}
