# Colmena on Nomad: one group per role set, each task running
# `colmena node --roles …` from the image (docker driver), connected to the
# NATS cluster of nats.nomad.hcl (or any JetStream cluster: nats_servers).
# Configuration is rendered by a template from the job's variables; secrets
# (NATS credentials) come from the Nomad Variable nomad/jobs/colmena through
# a template into secrets/, never as literals.
# Check it with `colmena nomad validate nomad/*.nomad.hcl`.

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "image" {
  type    = string
  default = "colmena:latest"
}

variable "nats_servers" {
  type        = string
  description = "NATS client URLs, comma-separated"
  default     = "nats://colmena-nats.service.nomad:4222"
}

variable "namespace" {
  type    = string
  default = "colmena"
}

variable "bridge_count" {
  type    = number
  default = 2
}

variable "session_count" {
  type    = number
  default = 2
}

variable "embedder_count" {
  type    = number
  default = 2
}

variable "shard_count" {
  type    = number
  default = 2
}

variable "ingest_count" {
  type    = number
  default = 1
}

variable "llm_count" {
  type    = number
  default = 1
}

job "colmena" {
  datacenters = var.datacenters
  type        = "service"

  group "bridge" {
    count = var.bridge_count

    spread {
      attribute = "${node.unique.id}"
    }

    network {
      port "http" {
        to = 8080
      }
    }

    service {
      name     = "colmena-bridge"
      provider = "nomad"
      port     = "http"

      check {
        name     = "health"
        type     = "http"
        path     = "/health"
        interval = "10s"
        timeout  = "2s"
      }

      check {
        name     = "ready"
        type     = "http"
        path     = "/ready"
        interval = "10s"
        timeout  = "3s"
      }
    }

    update {
      max_parallel     = 1
      canary           = 1
      health_check     = "checks"
      min_healthy_time = "15s"
      healthy_deadline = "5m"
      auto_revert      = true
      auto_promote     = true
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "fail"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    scaling {
      enabled = true
      min     = 1
      max     = 6

      policy {
        cooldown            = "2m"
        evaluation_interval = "30s"

        check "load" {
          source = "prometheus"
          query  = "sum(colmena_http_requests_in_flight) / count(colmena_http_requests_in_flight)"

          strategy "target-value" {
            target = 32
          }
        }
      }
    }

    task "colmena" {
      driver = "docker"

      config {
        image = var.image
        ports = ["http"]
        args  = ["node", "--roles", "bridge", "--nats", var.nats_servers, "--config", "/local/colmena.json"]
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "/local/data",
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "/secrets/nats.creds"
              }
            },
            "http": {
              "host": "0.0.0.0",
              "port": 8080,
              "auth": {
                "mode": "keys"
              }
            }
          }
        EOT
      }

      template {
        destination = "secrets/nats.creds"
        change_mode = "restart"
        perms       = "0600"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/colmena" }}{{ .nats_creds }}{{ end }}
        EOT
      }

      resources {
        cpu    = 1000
        memory = 1024
      }

      # Longer than runtime.shutdownGraceMs (10 s) plus the last snapshot and KV writes.
      kill_timeout = "45s"
      kill_signal  = "SIGTERM"
    }
  }

  group "session" {
    count = var.session_count

    spread {
      attribute = "${node.unique.id}"
    }

    update {
      max_parallel     = 1
      canary           = 0
      health_check     = "task_states"
      min_healthy_time = "15s"
      healthy_deadline = "5m"
      auto_revert      = true
      auto_promote     = false
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "fail"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    scaling {
      enabled = true
      min     = 1
      max     = 8

      policy {
        cooldown            = "2m"
        evaluation_interval = "30s"

        check "load" {
          source = "prometheus"
          query  = "sum(colmena_actor_in_flight{kind=\"pipeline\"}) / sum(colmena_actor_slots{kind=\"pipeline\"})"

          strategy "target-value" {
            target = 0.7
          }
        }
      }
    }

    task "colmena" {
      driver = "docker"

      config {
        image = var.image
        ports = []
        args  = ["node", "--roles", "session,query", "--nats", var.nats_servers, "--config", "/local/colmena.json"]
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "/local/data",
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "/secrets/nats.creds"
              }
            }
          }
        EOT
      }

      template {
        destination = "secrets/nats.creds"
        change_mode = "restart"
        perms       = "0600"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/colmena" }}{{ .nats_creds }}{{ end }}
        EOT
      }

      resources {
        cpu    = 1000
        memory = 1024
      }

      # Longer than runtime.shutdownGraceMs (10 s) plus the last snapshot and KV writes.
      kill_timeout = "45s"
      kill_signal  = "SIGTERM"
    }
  }

  group "embedder" {
    count = var.embedder_count

    spread {
      attribute = "${node.unique.id}"
    }

    volume "models" {
      type      = "host"
      source    = "colmena-models"
      read_only = true
    }

    update {
      max_parallel     = 1
      canary           = 0
      health_check     = "task_states"
      min_healthy_time = "15s"
      healthy_deadline = "5m"
      auto_revert      = true
      auto_promote     = false
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "fail"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    scaling {
      enabled = true
      min     = 1
      max     = 8

      policy {
        cooldown            = "2m"
        evaluation_interval = "30s"

        check "load" {
          source = "prometheus"
          query  = "sum(colmena_actor_in_flight{kind=\"embedder\"}) / sum(colmena_actor_slots{kind=\"embedder\"})"

          strategy "target-value" {
            target = 0.7
          }
        }
      }
    }

    task "colmena" {
      driver = "docker"

      config {
        image = var.image
        ports = []
        args  = ["node", "--roles", "embedder", "--nats", var.nats_servers, "--config", "/local/colmena.json"]
      }

      volume_mount {
        volume      = "models"
        destination = "/models"
        read_only   = true
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "/local/data",
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "/secrets/nats.creds"
              }
            },
            "retrieval": {
              "embedder": {
                "backend": "onnx",
                "modelDir": "/models/embedder"
              }
            }
          }
        EOT
      }

      template {
        destination = "secrets/nats.creds"
        change_mode = "restart"
        perms       = "0600"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/colmena" }}{{ .nats_creds }}{{ end }}
        EOT
      }

      resources {
        cpu    = 2000
        memory = 2048
      }

      # Longer than runtime.shutdownGraceMs (10 s) plus the last snapshot and KV writes.
      kill_timeout = "45s"
      kill_signal  = "SIGTERM"
    }
  }

  group "shard" {
    count = var.shard_count

    spread {
      attribute = "${node.unique.id}"
    }

    volume "shard-data" {
      type      = "host"
      source    = "colmena-shards"
      read_only = false
    }

    update {
      max_parallel     = 1
      canary           = 0
      health_check     = "task_states"
      min_healthy_time = "15s"
      healthy_deadline = "5m"
      auto_revert      = true
      auto_promote     = false
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "fail"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    task "colmena" {
      driver = "docker"

      config {
        image = var.image
        ports = []
        args  = ["node", "--roles", "shard", "--nats", var.nats_servers, "--config", "/local/colmena.json"]
      }

      volume_mount {
        volume      = "shard-data"
        destination = "/data"
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "/data",
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "/secrets/nats.creds"
              }
            }
          }
        EOT
      }

      template {
        destination = "secrets/nats.creds"
        change_mode = "restart"
        perms       = "0600"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/colmena" }}{{ .nats_creds }}{{ end }}
        EOT
      }

      resources {
        cpu    = 1000
        memory = 4096
      }

      # Longer than runtime.shutdownGraceMs (10 s) plus the last snapshot and KV writes.
      kill_timeout = "45s"
      kill_signal  = "SIGTERM"
    }
  }

  group "ingest" {
    count = var.ingest_count

    spread {
      attribute = "${node.unique.id}"
    }

    update {
      max_parallel     = 1
      canary           = 0
      health_check     = "task_states"
      min_healthy_time = "15s"
      healthy_deadline = "5m"
      auto_revert      = true
      auto_promote     = false
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "fail"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    scaling {
      enabled = true
      min     = 1
      max     = 4

      policy {
        cooldown            = "2m"
        evaluation_interval = "30s"

        check "load" {
          source = "prometheus"
          query  = "max(colmena_consumer_lag{stream=\"ingest\",consumer=\"ingest-workers\"})"

          strategy "target-value" {
            target = 200
          }
        }
      }
    }

    task "colmena" {
      driver = "docker"

      config {
        image = var.image
        ports = []
        args  = ["node", "--roles", "ingest", "--nats", var.nats_servers, "--config", "/local/colmena.json"]
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "/local/data",
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "/secrets/nats.creds"
              }
            }
          }
        EOT
      }

      template {
        destination = "secrets/nats.creds"
        change_mode = "restart"
        perms       = "0600"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/colmena" }}{{ .nats_creds }}{{ end }}
        EOT
      }

      resources {
        cpu    = 1000
        memory = 1024
      }

      # Longer than runtime.shutdownGraceMs (10 s) plus the last snapshot and KV writes.
      kill_timeout = "45s"
      kill_signal  = "SIGTERM"
    }
  }

  group "llm" {
    count = var.llm_count

    spread {
      attribute = "${node.unique.id}"
    }

    volume "models" {
      type      = "host"
      source    = "colmena-models"
      read_only = true
    }

    update {
      max_parallel     = 1
      canary           = 0
      health_check     = "task_states"
      min_healthy_time = "15s"
      healthy_deadline = "5m"
      auto_revert      = true
      auto_promote     = false
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "fail"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    scaling {
      enabled = true
      min     = 1
      max     = 4

      policy {
        cooldown            = "2m"
        evaluation_interval = "30s"

        check "load" {
          source = "prometheus"
          query  = "sum(colmena_llm_sequences{state=\"waiting\"}) / count(colmena_llm_sequences{state=\"running\"})"

          strategy "target-value" {
            target = 1
          }
        }
      }
    }

    task "colmena" {
      driver = "docker"

      config {
        image = var.image
        ports = []
        args  = ["node", "--roles", "llm", "--nats", var.nats_servers, "--config", "/local/colmena.json"]
      }

      volume_mount {
        volume      = "models"
        destination = "/models"
        read_only   = true
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "/local/data",
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "/secrets/nats.creds"
              }
            },
            "llm": {
              "backend": {
                "type": "onnx",
                "modelDir": "/models/llm",
                "device": "cuda:0"
              }
            }
          }
        EOT
      }

      template {
        destination = "secrets/nats.creds"
        change_mode = "restart"
        perms       = "0600"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/colmena" }}{{ .nats_creds }}{{ end }}
        EOT
      }

      resources {
        cpu    = 2000
        memory = 8192

        device "nvidia/gpu" {
          count = 1

          constraint {
            attribute = "${device.attr.memory}"
            operator  = ">="
            value     = "16 GiB"
          }
        }
      }

      # Longer than runtime.shutdownGraceMs (10 s) plus the last snapshot and KV writes.
      kill_timeout = "45s"
      kill_signal  = "SIGTERM"
    }
  }
}
