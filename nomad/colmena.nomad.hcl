# Colmena on Nomad: one group per role set, each task running
# `colmena node --roles …` connected to the NATS cluster of nats.nomad.hcl
# (or any JetStream cluster: nats_servers). The task runs the image (driver
# "docker", the default) or the installed package (driver "exec" or
# "raw_exec": colmena_path). Configuration is rendered by a template from
# the job's variables and the task's environment; secrets (NATS credentials)
# come from the Nomad Variable nomad/jobs/colmena through a template into
# secrets/, never as literals. Every node serves /metrics on a port
# registered as the service colmena-metrics, which prometheus.nomad.hcl
# scrapes and the scaling policies read (autoscaler.nomad.hcl).
# Check it with `colmena nomad validate nomad/*.nomad.hcl`.

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "driver" {
  type        = string
  description = "docker (the image), exec or raw_exec (the package installed at colmena_path)"
  default     = "docker"

  validation {
    condition     = contains(["docker", "exec", "raw_exec"], var.driver)
    error_message = "The driver must be docker, exec or raw_exec."
  }
}

variable "image" {
  type    = string
  default = "colmena:latest"
}

variable "colmena_path" {
  type        = string
  description = "The colmena executable on the clients, for the exec and raw_exec drivers"
  default     = "/usr/local/bin/colmena"
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

variable "models_dir" {
  type        = string
  description = "Where the task sees the colmena-models host volume (raw_exec mounts nothing: set the volume's path on the host)"
  default     = "/models"
}

variable "shards_dir" {
  type        = string
  description = "Where the task sees the colmena-shards host volume (raw_exec mounts nothing: set the volume's path on the host)"
  default     = "/data"
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
      port "http" {}
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

    # A bridge serves its node's /metrics on its own port.
    service {
      name     = "colmena-metrics"
      provider = "nomad"
      port     = "http"
      tags     = ["group=bridge"]
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

        # HTTP requests in flight per bridge: the bridge holds each until its answer is done.
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
      driver = var.driver

      dynamic "config" {
        for_each = var.driver == "docker" ? [1] : []
        content {
          image = var.image
          ports = ["http"]
          args  = ["node", "--roles", "bridge", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      dynamic "config" {
        for_each = var.driver == "docker" ? [] : [1]
        content {
          command = var.colmena_path
          args    = ["node", "--roles", "bridge", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "{{ env "NOMAD_TASK_DIR" }}/data",
            "http": {
              "host": "0.0.0.0",
              "port": {{ env "NOMAD_PORT_http" }},
              "auth": {
                "mode": "keys"
              }
            },
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "{{ env "NOMAD_SECRETS_DIR" }}/nats.creds"
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

    network {
      port "metrics" {}
    }

    # Scraped by prometheus.nomad.hcl: the node's /metrics, queue depths included.
    service {
      name     = "colmena-metrics"
      provider = "nomad"
      port     = "metrics"
      tags     = ["group=session"]
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

        # Work over capacity: in flight plus queued, over slots (instances × concurrency). A pool behind request/reply has no broker buffer, so its depth is what its instances hold.
        check "load" {
          source = "prometheus"
          query  = "(sum(colmena_actor_slots{kind=\"pipeline\",state=\"used\"}) + sum(colmena_actor_mailbox_depth{kind=\"pipeline\"})) / sum(colmena_actor_slots{kind=\"pipeline\"})"

          strategy "target-value" {
            target = 0.7
          }
        }
      }
    }

    task "colmena" {
      driver = var.driver

      dynamic "config" {
        for_each = var.driver == "docker" ? [1] : []
        content {
          image = var.image
          ports = ["metrics"]
          args  = ["node", "--roles", "session,query", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      dynamic "config" {
        for_each = var.driver == "docker" ? [] : [1]
        content {
          command = var.colmena_path
          args    = ["node", "--roles", "session,query", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "{{ env "NOMAD_TASK_DIR" }}/data",
            "metrics": {
              "host": "0.0.0.0",
              "port": {{ env "NOMAD_PORT_metrics" }}
            },
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "{{ env "NOMAD_SECRETS_DIR" }}/nats.creds"
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

    network {
      port "metrics" {}
    }

    # Scraped by prometheus.nomad.hcl: the node's /metrics, queue depths included.
    service {
      name     = "colmena-metrics"
      provider = "nomad"
      port     = "metrics"
      tags     = ["group=embedder"]
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

        # Work over capacity: in flight plus queued, over slots (instances × concurrency). A pool behind request/reply has no broker buffer, so its depth is what its instances hold.
        check "load" {
          source = "prometheus"
          query  = "(sum(colmena_actor_slots{kind=\"embedder\",state=\"used\"}) + sum(colmena_actor_mailbox_depth{kind=\"embedder\"})) / sum(colmena_actor_slots{kind=\"embedder\"})"

          strategy "target-value" {
            target = 0.7
          }
        }
      }
    }

    task "colmena" {
      driver = var.driver

      dynamic "config" {
        for_each = var.driver == "docker" ? [1] : []
        content {
          image = var.image
          ports = ["metrics"]
          args  = ["node", "--roles", "embedder", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      dynamic "config" {
        for_each = var.driver == "docker" ? [] : [1]
        content {
          command = var.colmena_path
          args    = ["node", "--roles", "embedder", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      # raw_exec mounts no volumes: the task reads var.models_dir on the host itself.
      dynamic "volume_mount" {
        for_each = var.driver == "raw_exec" ? [] : [1]
        content {
          volume      = "models"
          destination = var.models_dir
            read_only   = true
        }
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "{{ env "NOMAD_TASK_DIR" }}/data",
            "metrics": {
              "host": "0.0.0.0",
              "port": {{ env "NOMAD_PORT_metrics" }}
            },
            "retrieval": {
              "embedder": {
                "backend": "onnx",
                "modelDir": "${var.models_dir}/embedder"
              }
            },
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "{{ env "NOMAD_SECRETS_DIR" }}/nats.creds"
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

    network {
      port "metrics" {}
    }

    # Scraped by prometheus.nomad.hcl: the node's /metrics, queue depths included.
    service {
      name     = "colmena-metrics"
      provider = "nomad"
      port     = "metrics"
      tags     = ["group=shard"]
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
      driver = var.driver

      dynamic "config" {
        for_each = var.driver == "docker" ? [1] : []
        content {
          image = var.image
          ports = ["metrics"]
          args  = ["node", "--roles", "shard", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      dynamic "config" {
        for_each = var.driver == "docker" ? [] : [1]
        content {
          command = var.colmena_path
          args    = ["node", "--roles", "shard", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      # raw_exec mounts no volumes: the task reads var.shards_dir on the host itself.
      dynamic "volume_mount" {
        for_each = var.driver == "raw_exec" ? [] : [1]
        content {
          volume      = "shard-data"
          destination = var.shards_dir
        }
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "${var.shards_dir}",
            "metrics": {
              "host": "0.0.0.0",
              "port": {{ env "NOMAD_PORT_metrics" }}
            },
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "{{ env "NOMAD_SECRETS_DIR" }}/nats.creds"
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

    network {
      port "metrics" {}
    }

    # Scraped by prometheus.nomad.hcl: the node's /metrics, queue depths included.
    service {
      name     = "colmena-metrics"
      provider = "nomad"
      port     = "metrics"
      tags     = ["group=ingest"]
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

        # Backlog per ingest node: the shared consumer's lag (every ingest node reports the same figure, hence max), over the ingest nodes; as KEDA's NATS JetStream scaler, ceil(lag / target) nodes.
        check "load" {
          source = "prometheus"
          query  = "max(colmena_consumer_lag{stream=\"${var.namespace}_ingest\",consumer=\"ingest-workers\"}) / count(colmena_actor_slots{kind=\"ingest\",state=\"used\"})"

          strategy "target-value" {
            target = 200
          }
        }
      }
    }

    task "colmena" {
      driver = var.driver

      dynamic "config" {
        for_each = var.driver == "docker" ? [1] : []
        content {
          image = var.image
          ports = ["metrics"]
          args  = ["node", "--roles", "ingest", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      dynamic "config" {
        for_each = var.driver == "docker" ? [] : [1]
        content {
          command = var.colmena_path
          args    = ["node", "--roles", "ingest", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "{{ env "NOMAD_TASK_DIR" }}/data",
            "metrics": {
              "host": "0.0.0.0",
              "port": {{ env "NOMAD_PORT_metrics" }}
            },
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "{{ env "NOMAD_SECRETS_DIR" }}/nats.creds"
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

    network {
      port "metrics" {}
    }

    # Scraped by prometheus.nomad.hcl: the node's /metrics, queue depths included.
    service {
      name     = "colmena-metrics"
      provider = "nomad"
      port     = "metrics"
      tags     = ["group=llm"]
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

        # Sequences, active and waiting, over the sequence slots of every llm instance.
        check "load" {
          source = "prometheus"
          query  = "sum(colmena_llm_sequences) / sum(colmena_actor_slots{kind=\"llm\"})"

          strategy "target-value" {
            target = 0.8
          }
        }
      }
    }

    task "colmena" {
      driver = var.driver

      dynamic "config" {
        for_each = var.driver == "docker" ? [1] : []
        content {
          image = var.image
          ports = ["metrics"]
          args  = ["node", "--roles", "llm", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      dynamic "config" {
        for_each = var.driver == "docker" ? [] : [1]
        content {
          command = var.colmena_path
          args    = ["node", "--roles", "llm", "--nats", var.nats_servers, "--config", "${NOMAD_TASK_DIR}/colmena.json"]
        }
      }

      # raw_exec mounts no volumes: the task reads var.models_dir on the host itself.
      dynamic "volume_mount" {
        for_each = var.driver == "raw_exec" ? [] : [1]
        content {
          volume      = "models"
          destination = var.models_dir
            read_only   = true
        }
      }

      template {
        destination = "local/colmena.json"
        change_mode = "restart"
        data        = <<-EOT
          {
            "namespace": "${var.namespace}",
            "dataDir": "{{ env "NOMAD_TASK_DIR" }}/data",
            "metrics": {
              "host": "0.0.0.0",
              "port": {{ env "NOMAD_PORT_metrics" }}
            },
            "llm": {
              "backend": {
                "type": "onnx",
                "modelDir": "${var.models_dir}/llm",
                "device": "cuda:0"
              }
            },
            "nats": {
              "auth": {
                "type": "creds",
                "credsFile": "{{ env "NOMAD_SECRETS_DIR" }}/nats.creds"
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
