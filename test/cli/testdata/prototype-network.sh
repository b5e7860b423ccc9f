#!/usr/bin/env bash
# Builds the network of the prototype reference architecture with the AWS CLI,
# then tears it down in an order that first runs into the DependencyViolations
# AWS reports (deleting an in-use VPC, subnet, security group, internet
# gateway), prints each, and finally succeeds.
#
# Needs: AWS_ENDPOINT_URL-or-ENDPOINT, credentials and region in the
# environment. The caller passes the CLI as $AWS (default: aws) and the
# endpoint as $ENDPOINT.
set -euo pipefail
AWS=${AWS:-aws}
aws_() { $AWS --endpoint-url "$ENDPOINT" --output text "$@"; }

# expect_error CODE cmd...: the command must fail with CODE; print the error.
expect_error() {
  local code=$1; shift
  local out
  if out=$(aws_ "$@" 2>&1); then
    echo "UNEXPECTED SUCCESS: $* (wanted $code)" >&2
    exit 1
  fi
  if ! grep -q "($code)" <<<"$out"; then
    echo "WRONG ERROR for $*: $out (wanted $code)" >&2
    exit 1
  fi
  echo "refused as expected: $code: $(sed -n 's/.*operation: //p' <<<"$out" | head -1)"
}

azs=($(aws_ ec2 describe-availability-zones --query 'AvailabilityZones[0:2].ZoneName'))
echo "AZs: ${azs[*]}"

vpc=$(aws_ ec2 create-vpc --cidr-block 10.0.0.0/16 --tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=prototype}]' --query Vpc.VpcId)
aws_ ec2 modify-vpc-attribute --vpc-id "$vpc" --enable-dns-hostnames '{"Value":true}'
pub1=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.0.0/24 --availability-zone "${azs[0]}" --query Subnet.SubnetId)
pub2=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.1.0/24 --availability-zone "${azs[1]}" --query Subnet.SubnetId)
priv1=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.10.0/24 --availability-zone "${azs[0]}" --query Subnet.SubnetId)
priv2=$(aws_ ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.11.0/24 --availability-zone "${azs[1]}" --query Subnet.SubnetId)
aws_ ec2 modify-subnet-attribute --subnet-id "$pub1" --map-public-ip-on-launch
expect_error InvalidSubnet.Conflict ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.0.128/25 --availability-zone "${azs[0]}"

igw=$(aws_ ec2 create-internet-gateway --query InternetGateway.InternetGatewayId)
aws_ ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
rtb=$(aws_ ec2 create-route-table --vpc-id "$vpc" --query RouteTable.RouteTableId)
aws_ ec2 create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" >/dev/null
assoc1=$(aws_ ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$pub1" --query AssociationId)
assoc2=$(aws_ ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$pub2" --query AssociationId)

web=$(aws_ ec2 create-security-group --group-name web --description "web servers" --vpc-id "$vpc" --query GroupId)
db=$(aws_ ec2 create-security-group --group-name db --description "database" --vpc-id "$vpc" --query GroupId)
aws_ ec2 authorize-security-group-ingress --group-id "$web" --protocol tcp --port 80 --cidr 0.0.0.0/0 >/dev/null
aws_ ec2 authorize-security-group-ingress --group-id "$db" --protocol tcp --port 5432 --source-group "$web" >/dev/null
expect_error InvalidPermission.Duplicate ec2 authorize-security-group-ingress --group-id "$web" --protocol tcp --port 80 --cidr 0.0.0.0/0

acl=$(aws_ ec2 create-network-acl --vpc-id "$vpc" --query NetworkAcl.NetworkAclId)
aws_ ec2 create-network-acl-entry --network-acl-id "$acl" --ingress --rule-number 100 --protocol tcp --port-range From=5432,To=5432 --cidr-block 10.0.0.0/23 --rule-action allow
aws_ ec2 create-network-acl-entry --network-acl-id "$acl" --egress --rule-number 100 --protocol tcp --port-range From=1024,To=65535 --cidr-block 10.0.0.0/23 --rule-action allow
old_assoc=$(aws_ ec2 describe-network-acls --filters "Name=association.subnet-id,Values=$priv1" --query "NetworkAcls[0].Associations[?SubnetId=='$priv1'].NetworkAclAssociationId")
aws_ ec2 replace-network-acl-association --association-id "$old_assoc" --network-acl-id "$acl" >/dev/null

ami=$(aws_ ec2 describe-images --owners amazon --filters 'Name=name,Values=al2023-ami-2023*-x86_64' --query 'sort_by(Images,&CreationDate)[-1].ImageId')
inst=$(aws_ ec2 run-instances --image-id "$ami" --instance-type t3.micro --subnet-id "$pub1" --security-group-ids "$web" --query 'Instances[0].InstanceId')
eip=$(aws_ ec2 allocate-address --domain vpc --query AllocationId)
# The EIP goes on the instance's primary network interface, which AWS allows
# in any instance state (associating by instance ID needs it running).
eni=$(aws_ ec2 describe-instances --instance-ids "$inst" --query 'Reservations[0].Instances[0].NetworkInterfaces[0].NetworkInterfaceId')
eipassoc=$(aws_ ec2 associate-address --allocation-id "$eip" --network-interface-id "$eni" --query AssociationId)
echo "built: vpc=$vpc subnets=$pub1,$pub2,$priv1,$priv2 igw=$igw rtb=$rtb web=$web db=$db acl=$acl instance=$inst eip=$eip"
ip=$(aws_ ec2 describe-instances --instance-ids "$inst" --query 'Reservations[0].Instances[0].PublicIpAddress')
case "$ip" in 198.18.*|198.19.*) echo "instance public IP $ip" ;; *) echo "public IP $ip outside 198.18.0.0/15" >&2; exit 1 ;; esac

# Teardown, first in the wrong order.
expect_error DependencyViolation ec2 delete-vpc --vpc-id "$vpc"
expect_error DependencyViolation ec2 delete-security-group --group-id "$web"
expect_error DependencyViolation ec2 delete-subnet --subnet-id "$pub1"
expect_error DependencyViolation ec2 detach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
expect_error InvalidIPAddress.InUse ec2 release-address --allocation-id "$eip"

# Then in the right one.
aws_ ec2 disassociate-address --association-id "$eipassoc"
aws_ ec2 release-address --allocation-id "$eip"
aws_ ec2 terminate-instances --instance-ids "$inst" >/dev/null
# An instance ENI is released when the instance is gone; wait for it.
for _ in $(seq 1 100); do
  n=$(aws_ ec2 describe-network-interfaces --filters "Name=subnet-id,Values=$pub1" --query 'length(NetworkInterfaces)')
  [ "$n" = 0 ] && break
  sleep 0.1
done
aws_ ec2 delete-security-group --group-id "$db"
aws_ ec2 delete-security-group --group-id "$web"
aws_ ec2 disassociate-route-table --association-id "$assoc1"
aws_ ec2 disassociate-route-table --association-id "$assoc2"
aws_ ec2 delete-route-table --route-table-id "$rtb"
aws_ ec2 detach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
aws_ ec2 delete-internet-gateway --internet-gateway-id "$igw"
for s in "$pub1" "$pub2" "$priv1" "$priv2"; do aws_ ec2 delete-subnet --subnet-id "$s"; done
aws_ ec2 delete-network-acl --network-acl-id "$acl"
aws_ ec2 delete-vpc --vpc-id "$vpc"
n=$(aws_ ec2 describe-vpcs --filters "Name=tag:Name,Values=prototype" --query 'length(Vpcs)')
[ "$n" = 0 ] || { echo "VPC still listed" >&2; exit 1; }
echo "torn down"
