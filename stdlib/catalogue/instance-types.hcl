# EC2 instance types known to berth's capacity checks, one `instance_type` block per type.
#
# Source: AWS EC2 instance type documentation ("Amazon EC2 instance type specifications":
# performance, network, Amazon EBS and instance store specifications; network figures are
# "Maximum network interfaces" and "IPv4 addresses per interface"), and the EKS max-pods table
# (amazon-vpc-cni-k8s misc/eni-max-pods.txt). Retrieved figures as of 2025.
#
# Fields:
#   vcpus           vCPUs.
#   memory_mib      memory in MiB (the published GiB x 1024).
#   enis            maximum network interfaces (on the default network card).
#   ipv4_per_eni    IPv4 addresses per interface, the primary address included.
#   nitro           built on the Nitro System (bare-metal sizes included); false means Xen,
#                   which has no VPC CNI prefix delegation.
#   local_disks     instance store volumes; 0 means EBS only.
#   local_disk_gib  size of each instance store volume as AWS publishes it (its tables label
#                   these GB); 0 when there are none.
#   ebs_max_iops    maximum EBS IOPS at 16 KiB I/O (the burst figure for sizes that burst).
#   network_gbps    network bandwidth; for sizes with a baseline and a burst ("up to") figure,
#                   the burst figure.
#
# The EKS max pods in secondary-IP mode, enis x (ipv4_per_eni - 1) + 2, must equal the
# eni-max-pods.txt value for every type; the crate's tests check it.

# X1 and X1e: memory optimized, Intel Haswell, Xen. Instance store is SATA SSD.

instance_type "x1.16xlarge" {
  vcpus          = 64
  memory_mib     = 999424    # 976 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 1
  local_disk_gib = 1920
  ebs_max_iops   = 40000
  network_gbps   = 10
}

instance_type "x1.32xlarge" {
  vcpus          = 128
  memory_mib     = 1998848   # 1952 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 2
  local_disk_gib = 1920
  ebs_max_iops   = 80000
  network_gbps   = 25
}

instance_type "x1e.32xlarge" {
  vcpus          = 128
  memory_mib     = 3997696   # 3904 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 2
  local_disk_gib = 1920
  ebs_max_iops   = 80000
  network_gbps   = 25
}

# M6i: general purpose, Intel Ice Lake, Nitro. EBS only.

instance_type "m6i.large" {
  vcpus          = 2
  memory_mib     = 8192      # 8 GiB
  enis           = 3
  ipv4_per_eni   = 10
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "m6i.xlarge" {
  vcpus          = 4
  memory_mib     = 16384     # 16 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "m6i.2xlarge" {
  vcpus          = 8
  memory_mib     = 32768     # 32 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "m6i.4xlarge" {
  vcpus          = 16
  memory_mib     = 65536     # 64 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "m6i.8xlarge" {
  vcpus          = 32
  memory_mib     = 131072    # 128 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "m6i.12xlarge" {
  vcpus          = 48
  memory_mib     = 196608    # 192 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 60000
  network_gbps   = 18.75
}

instance_type "m6i.16xlarge" {
  vcpus          = 64
  memory_mib     = 262144    # 256 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 80000
  network_gbps   = 25
}

instance_type "m6i.24xlarge" {
  vcpus          = 96
  memory_mib     = 393216    # 384 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 120000
  network_gbps   = 37.5
}

instance_type "m6i.32xlarge" {
  vcpus          = 128
  memory_mib     = 524288    # 512 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 160000
  network_gbps   = 50
}

instance_type "m6i.metal" {
  vcpus          = 128
  memory_mib     = 524288    # 512 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 160000
  network_gbps   = 50
}

# C6i: compute optimized, Intel Ice Lake, Nitro. EBS only.

instance_type "c6i.large" {
  vcpus          = 2
  memory_mib     = 4096      # 4 GiB
  enis           = 3
  ipv4_per_eni   = 10
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "c6i.xlarge" {
  vcpus          = 4
  memory_mib     = 8192      # 8 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "c6i.2xlarge" {
  vcpus          = 8
  memory_mib     = 16384     # 16 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "c6i.4xlarge" {
  vcpus          = 16
  memory_mib     = 32768     # 32 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "c6i.8xlarge" {
  vcpus          = 32
  memory_mib     = 65536     # 64 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "c6i.12xlarge" {
  vcpus          = 48
  memory_mib     = 98304     # 96 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 60000
  network_gbps   = 18.75
}

instance_type "c6i.16xlarge" {
  vcpus          = 64
  memory_mib     = 131072    # 128 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 80000
  network_gbps   = 25
}

instance_type "c6i.24xlarge" {
  vcpus          = 96
  memory_mib     = 196608    # 192 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 120000
  network_gbps   = 37.5
}

instance_type "c6i.32xlarge" {
  vcpus          = 128
  memory_mib     = 262144    # 256 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 160000
  network_gbps   = 50
}

instance_type "c6i.metal" {
  vcpus          = 128
  memory_mib     = 262144    # 256 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 160000
  network_gbps   = 50
}

# R6i: memory optimized, Intel Ice Lake, Nitro. EBS only.

instance_type "r6i.large" {
  vcpus          = 2
  memory_mib     = 16384     # 16 GiB
  enis           = 3
  ipv4_per_eni   = 10
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "r6i.xlarge" {
  vcpus          = 4
  memory_mib     = 32768     # 32 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "r6i.2xlarge" {
  vcpus          = 8
  memory_mib     = 65536     # 64 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "r6i.4xlarge" {
  vcpus          = 16
  memory_mib     = 131072    # 128 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "r6i.8xlarge" {
  vcpus          = 32
  memory_mib     = 262144    # 256 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12.5
}

instance_type "r6i.12xlarge" {
  vcpus          = 48
  memory_mib     = 393216    # 384 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 60000
  network_gbps   = 18.75
}

instance_type "r6i.16xlarge" {
  vcpus          = 64
  memory_mib     = 524288    # 512 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 80000
  network_gbps   = 25
}

instance_type "r6i.24xlarge" {
  vcpus          = 96
  memory_mib     = 786432    # 768 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 120000
  network_gbps   = 37.5
}

instance_type "r6i.32xlarge" {
  vcpus          = 128
  memory_mib     = 1048576   # 1024 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 160000
  network_gbps   = 50
}

instance_type "r6i.metal" {
  vcpus          = 128
  memory_mib     = 1048576   # 1024 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 160000
  network_gbps   = 50
}

# I3: storage optimized, Intel Broadwell, NVMe SSD instance store. Xen, except i3.metal.

instance_type "i3.large" {
  vcpus          = 2
  memory_mib     = 15616     # 15.25 GiB
  enis           = 3
  ipv4_per_eni   = 10
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 1
  local_disk_gib = 475
  ebs_max_iops   = 3000
  network_gbps   = 10
}

instance_type "i3.xlarge" {
  vcpus          = 4
  memory_mib     = 31232     # 30.5 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 1
  local_disk_gib = 950
  ebs_max_iops   = 6000
  network_gbps   = 10
}

instance_type "i3.2xlarge" {
  vcpus          = 8
  memory_mib     = 62464     # 61 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 1
  local_disk_gib = 1900
  ebs_max_iops   = 12000
  network_gbps   = 10
}

instance_type "i3.4xlarge" {
  vcpus          = 16
  memory_mib     = 124928    # 122 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 2
  local_disk_gib = 1900
  ebs_max_iops   = 16000
  network_gbps   = 10
}

instance_type "i3.8xlarge" {
  vcpus          = 32
  memory_mib     = 249856    # 244 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 4
  local_disk_gib = 1900
  ebs_max_iops   = 32500
  network_gbps   = 10
}

instance_type "i3.16xlarge" {
  vcpus          = 64
  memory_mib     = 499712    # 488 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = false     # Xen: no prefix delegation
  local_disks    = 8
  local_disk_gib = 1900
  ebs_max_iops   = 65000
  network_gbps   = 25
}

instance_type "i3.metal" {
  vcpus          = 72
  memory_mib     = 524288    # 512 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true      # bare metal, built on the Nitro System
  local_disks    = 8
  local_disk_gib = 1900
  ebs_max_iops   = 80000
  network_gbps   = 25
}

# I4i: storage optimized, Intel Ice Lake, Nitro, NVMe SSD instance store.

instance_type "i4i.large" {
  vcpus          = 2
  memory_mib     = 16384     # 16 GiB
  enis           = 3
  ipv4_per_eni   = 10
  nitro          = true
  local_disks    = 1
  local_disk_gib = 468
  ebs_max_iops   = 40000
  network_gbps   = 10
}

instance_type "i4i.xlarge" {
  vcpus          = 4
  memory_mib     = 32768     # 32 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 1
  local_disk_gib = 937
  ebs_max_iops   = 40000
  network_gbps   = 10
}

instance_type "i4i.2xlarge" {
  vcpus          = 8
  memory_mib     = 65536     # 64 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 1
  local_disk_gib = 1875
  ebs_max_iops   = 40000
  network_gbps   = 12
}

instance_type "i4i.4xlarge" {
  vcpus          = 16
  memory_mib     = 131072    # 128 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 1
  local_disk_gib = 3750
  ebs_max_iops   = 40000
  network_gbps   = 25
}

instance_type "i4i.8xlarge" {
  vcpus          = 32
  memory_mib     = 262144    # 256 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 2
  local_disk_gib = 3750
  ebs_max_iops   = 40000
  network_gbps   = 18.75
}

instance_type "i4i.12xlarge" {
  vcpus          = 48
  memory_mib     = 393216    # 384 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 3
  local_disk_gib = 3750
  ebs_max_iops   = 60000
  network_gbps   = 28.12
}

instance_type "i4i.16xlarge" {
  vcpus          = 64
  memory_mib     = 524288    # 512 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 4
  local_disk_gib = 3750
  ebs_max_iops   = 80000
  network_gbps   = 37.5
}

instance_type "i4i.24xlarge" {
  vcpus          = 96
  memory_mib     = 786432    # 768 GiB
  enis           = 15
  ipv4_per_eni   = 30        # not 50, unlike the other 15-interface sizes (max pods 437)
  nitro          = true
  local_disks    = 6
  local_disk_gib = 3750
  ebs_max_iops   = 120000
  network_gbps   = 56.25
}

instance_type "i4i.32xlarge" {
  vcpus          = 128
  memory_mib     = 1048576   # 1024 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 8
  local_disk_gib = 3750
  ebs_max_iops   = 160000
  network_gbps   = 75
}

instance_type "i4i.metal" {
  vcpus          = 128
  memory_mib     = 1048576   # 1024 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 8
  local_disk_gib = 3750
  ebs_max_iops   = 160000
  network_gbps   = 75
}

# M5: general purpose, Intel Skylake / Cascade Lake, Nitro. EBS only.

instance_type "m5.large" {
  vcpus          = 2
  memory_mib     = 8192      # 8 GiB
  enis           = 3
  ipv4_per_eni   = 10
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 18750
  network_gbps   = 10
}

instance_type "m5.xlarge" {
  vcpus          = 4
  memory_mib     = 16384     # 16 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 18750
  network_gbps   = 10
}

instance_type "m5.2xlarge" {
  vcpus          = 8
  memory_mib     = 32768     # 32 GiB
  enis           = 4
  ipv4_per_eni   = 15
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 18750
  network_gbps   = 10
}

instance_type "m5.4xlarge" {
  vcpus          = 16
  memory_mib     = 65536     # 64 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 18750
  network_gbps   = 10
}

instance_type "m5.8xlarge" {
  vcpus          = 32
  memory_mib     = 131072    # 128 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 30000
  network_gbps   = 10
}

instance_type "m5.12xlarge" {
  vcpus          = 48
  memory_mib     = 196608    # 192 GiB
  enis           = 8
  ipv4_per_eni   = 30
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 40000
  network_gbps   = 12
}

instance_type "m5.16xlarge" {
  vcpus          = 64
  memory_mib     = 262144    # 256 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 60000
  network_gbps   = 20
}

instance_type "m5.24xlarge" {
  vcpus          = 96
  memory_mib     = 393216    # 384 GiB
  enis           = 15
  ipv4_per_eni   = 50
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 80000
  network_gbps   = 25
}

# T3: burstable, Nitro. EBS only.

instance_type "t3.medium" {
  vcpus          = 2
  memory_mib     = 4096      # 4 GiB
  enis           = 3
  ipv4_per_eni   = 6
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 11800
  network_gbps   = 5
}

instance_type "t3.large" {
  vcpus          = 2
  memory_mib     = 8192      # 8 GiB
  enis           = 3
  ipv4_per_eni   = 12
  nitro          = true
  local_disks    = 0
  local_disk_gib = 0
  ebs_max_iops   = 15700
  network_gbps   = 5
}
