/**
 * An EC2 API error: the Code the SDK surfaces as `err.name`, and EC2's wording of the message
 * (tests and builders match on both, so they follow what real EC2 says).
 */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** EC2 answers client errors with 400, AuthFailure with 401, throttling with 503. */
    readonly status: number = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const notFound = {
  image: (id: string): Ec2Error => new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`),
  instance: (id: string): Ec2Error => new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`),
  group: (id: string): Ec2Error => new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`),
  keyPair: (name: string): Ec2Error => new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${name}' does not exist`),
  snapshot: (id: string): Ec2Error => new Ec2Error('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`),
  vpc: (id: string): Ec2Error => new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`),
  subnet: (id: string): Ec2Error => new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`),
};

export function missingParameter(name: string): Ec2Error {
  return new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
}

export function invalidParameter(message: string): Ec2Error {
  return new Ec2Error('InvalidParameterValue', message);
}
