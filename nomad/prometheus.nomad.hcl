# Prometheus for the Colmena scaling policies: it finds every Colmena node
# through Nomad's service discovery (the service colmena-metrics, which each
# group of colmena.nomad.hcl registers on the port that serves /metrics) and
# keeps the series the Nomad Autoscaler queries (autoscaler.nomad.hcl).
# nomad_sd_configs needs Prometheus 2.43 or later. With Nomad ACLs on, give
# the job's workload identity a policy that may read services (nomad/README.md).

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "prometheus_image" {
  type    = string
  default = "prom/prometheus:v2.53.2"
}

job "colmena-prometheus" {
  datacenters = var.datacenters
  type        = "service"

  group "prometheus" {
    count = 1

    network {
      port "http" {
        static = 9090
      }
    }

    volume "data" {
      type      = "host"
      source    = "prometheus-data"
      read_only = false
    }

    service {
      name     = "prometheus"
      provider = "nomad"
      port     = "http"

      check {
        type     = "http"
        path     = "/-/healthy"
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

    task "prometheus" {
      driver = "docker"

      config {
        image = var.prometheus_image
        ports = ["http"]
        args = [
          "--config.file=${NOMAD_TASK_DIR}/prometheus.yml",
          "--storage.tsdb.path=/prometheus",
          "--storage.tsdb.retention.time=15d",
          "--web.listen-address=0.0.0.0:${NOMAD_PORT_http}",
        ]
      }

      volume_mount {
        volume      = "data"
        destination = "/prometheus"
      }

      # The task's workload identity, in secrets/nomad_token: service discovery presents it to Nomad,
      # which with ACLs on needs a policy bound to this job that may read services (nomad/README.md).
      identity {
        file = true
      }

      # The scaling policies evaluate every 30 s: scraping every 10 s gives each evaluation three fresh samples.
      template {
        destination   = "local/prometheus.yml"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<-EOT
          global:
            scrape_interval: 10s
            evaluation_interval: 10s
          scrape_configs:
            - job_name: colmena
              metrics_path: /metrics
              nomad_sd_configs:
                - server: "http://{{ env "attr.unique.network.ip-address" }}:4646"
                  refresh_interval: 30s
                  authorization:
                    credentials_file: "{{ env "NOMAD_SECRETS_DIR" }}/nomad_token"
              relabel_configs:
                - source_labels: [__meta_nomad_service]
                  regex: colmena-metrics
                  action: keep
                - source_labels: [__meta_nomad_tags]
                  regex: ".*,group=([^,]+),.*"
                  target_label: group
                - source_labels: [__meta_nomad_service_job_id]
                  target_label: nomad_job
        EOT
      }

      resources {
        cpu    = 500
        memory = 1024
      }

      kill_timeout = "30s"
    }
  }
}
