# The Nomad Autoscaler, which evaluates the scaling blocks of
# colmena.nomad.hcl: its Prometheus APM plugin queries the Prometheus of
# prometheus.nomad.hcl (found through Nomad's service discovery), the
# target-value strategy turns each query into a count, and it scales the
# groups through the Nomad API. Laid out as hashicorp/nomad-autoscaler-demos
# write it. It authenticates to Nomad with its workload identity, so no
# token is written anywhere.

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "autoscaler_image" {
  type    = string
  default = "hashicorp/nomad-autoscaler:0.4.5"
}

job "colmena-autoscaler" {
  datacenters = var.datacenters
  type        = "service"

  group "autoscaler" {
    count = 1

    network {
      port "http" {}
    }

    service {
      name     = "colmena-autoscaler"
      provider = "nomad"
      port     = "http"

      check {
        type     = "http"
        path     = "/v1/health"
        interval = "10s"
        timeout  = "2s"
      }
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }

    task "autoscaler" {
      driver = "docker"

      config {
        image   = var.autoscaler_image
        command = "nomad-autoscaler"
        ports   = ["http"]
        args = [
          "agent",
          "-config",
          "${NOMAD_TASK_DIR}/config.hcl",
          "-http-bind-address",
          "0.0.0.0",
          "-http-bind-port",
          "${NOMAD_PORT_http}",
        ]
      }

      template {
        destination = "local/config.hcl"
        change_mode = "restart"
        data        = <<-EOT
          nomad {
            address = "http://{{ env "attr.unique.network.ip-address" }}:4646"
          }

          telemetry {
            prometheus_metrics = true
            disable_hostname   = true
          }

          apm "prometheus" {
            driver = "prometheus"
            config = {
              address = "{{ range nomadService "prometheus" }}http://{{ .Address }}:{{ .Port }}{{ end }}"
            }
          }

          strategy "target-value" {
            driver = "target-value"
          }
        EOT
      }

      # The task's workload identity as NOMAD_TOKEN, which the agent reads: with ACLs on, a policy
      # bound to this job (nomad/README.md) lets it read the Colmena job and scale its groups.
      identity {
        env = true
      }

      resources {
        cpu    = 100
        memory = 128
      }

      kill_timeout = "30s"
    }
  }
}
