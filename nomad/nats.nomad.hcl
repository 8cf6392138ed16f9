# A 3-server NATS cluster with JetStream for Colmena: one server per Nomad
# client (distinct_hosts), routes found through Nomad's service discovery,
# the JetStream store on a host volume so a restarted server keeps its data.
# To use an existing NATS cluster instead, skip this job and point the
# Colmena job's `nats_servers` variable at it (JetStream on, 3 servers for
# replicated streams).

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "nats_image" {
  type    = string
  default = "nats:2.10-alpine"
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
      driver = "docker"

      config {
        image        = var.nats_image
        network_mode = "host"
        args         = ["--config", "/local/nats.conf"]
      }

      volume_mount {
        volume      = "jetstream"
        destination = "/data"
      }

      template {
        destination = "local/nats.conf"
        change_mode = "restart"
        data        = <<-EOT
          server_name: "{{ env "node.unique.name" }}"
          port: 4222
          http_port: 8222
          jetstream {
            store_dir: "/data"
          }
          cluster {
            name: "colmena"
            port: 6222
            routes: [
          {{- range nomadService "colmena-nats-cluster" }}
              "nats://{{ .Address }}:{{ .Port }}"
          {{- end }}
            ]
          }
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
