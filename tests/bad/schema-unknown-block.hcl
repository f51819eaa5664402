# A misspelt block type: berth suggests `service`.

cluster "web" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-web-a", "subnet-web-b"]

  node_pool "general" {
    instance_type = "m6i.2xlarge"
    min           = 2
    max           = 4
  }
}

servce "storefront" { # expect: error schema::unknown-block
  workload = "Deployment"
  replicas = 6
  image    = "registry.shop.internal/web/storefront:3.4.1"
  ports    = { http = 8080 }

  placement {
    clusters = [cluster.web]
  }
}
