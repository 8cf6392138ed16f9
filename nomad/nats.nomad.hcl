# A 3-server NATS cluster with JetStream for Colmena: one server per Nomad
# client (distinct_hosts), routes found through Nomad's service discovery,
# the JetStream store on a host volume so a restarted server keeps its data,
# operator mode from the Nomad Variable nomad/jobs/colmena-nats (`auth`:
# the nats-server.conf that `colmena nats creds` writes; public JWTs only).
# The servers run from the image (driver "docker", the default) or from the
# nats-server installed on the clients (driver "exec" or "raw_exec").
# To use an existing NATS cluster instead, skip this job and point the
# Colmena job's `nats_servers` variable at it (JetStream on, 3 servers for
# replicated streams).

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "driver" {
  type        = string
  description = "docker (the image), exec or raw_exec (nats-server installed at nats_server_path)"
  default     = "docker"

  validation {
    condition     = contains(["docker", "exec", "raw_exec"], var.driver)
    error_message = "The driver must be docker, exec or raw_exec."
  }
}

variable "nats_image" {
  type    = string
  default = "nats:2.10-alpine"
}

variable "nats_server_path" {
  type        = string
  description = "The nats-server executable on the clients, for the exec and raw_exec drivers"
  default     = "/usr/sbin/nats-server"
}

variable "jetstream_dir" {
  type        = string
  description = "Where the task sees the nats-jetstream host volume (raw_exec mounts nothing: set the volume's path on the host)"
  default     = "/data"
}

job "colmena-nats" {
  datacenters = var.datacenters
  type        = "service"

  group "nats" {
    count = 3

    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }

    network {
      port "client" {
        static = 4222
      }
      port "cluster" {
        static = 6222
      }
      port "monitor" {
        static = 8222
      }
    }

    volume "jetstream" {
      type      = "host"
      source    = "nats-jetstream"
      read_only = false
    }

    service {
      name     = "colmena-nats"
      provider = "nomad"
      port     = "client"

      check {
        type     = "http"
        port     = "monitor"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"
      }
    }

    service {
      name     = "colmena-nats-cluster"
      provider = "nomad"
      port     = "cluster"
    }

    update {
      max_parallel     = 1
      health_check     = "checks"
      min_healthy_time = "20s"
      healthy_deadline = "5m"
      auto_revert      = true
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }

    task "nats-server" {
      driver = var.driver

      dynamic "config" {
        for_each = var.driver == "docker" ? [1] : []
        content {
          image        = var.nats_image
          network_mode = "host"
          args         = ["--config", "${NOMAD_TASK_DIR}/nats.conf"]
        }
      }

      dynamic "config" {
        for_each = var.driver == "docker" ? [] : [1]
        content {
          command = var.nats_server_path
          args    = ["--config", "${NOMAD_TASK_DIR}/nats.conf"]
        }
      }

      # raw_exec mounts no volumes: the server writes to var.jetstream_dir on the host itself.
      dynamic "volume_mount" {
        for_each = var.driver == "raw_exec" ? [] : [1]
        content {
          volume      = "jetstream"
          destination = var.jetstream_dir
        }
      }

      template {
        destination = "local/nats.conf"
        change_mode = "restart"
        data        = <<-EOT
          server_name: "{{ env "node.unique.name" }}"
          port: {{ env "NOMAD_PORT_client" }}
          http_port: {{ env "NOMAD_PORT_monitor" }}
          jetstream {
            store_dir: "${var.jetstream_dir}/{{ env "node.unique.name" }}"
          }
          cluster {
            name: "colmena"
            port: {{ env "NOMAD_PORT_cluster" }}
            routes: [
          {{- range nomadService "colmena-nats-cluster" }}
              "nats://{{ .Address }}:{{ .Port }}"
          {{- end }}
            ]
          }
          {{ with nomadVar "nomad/jobs/colmena-nats" }}{{ .auth }}{{ end }}
        EOT
      }

      resources {
        cpu    = 500
        memory = 512
      }

      kill_timeout = "30s"
    }
  }
}
