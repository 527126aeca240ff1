/** The provider contract, run against the vSphere provider and two real vCenter API peers (vcsim). */
import { describeConformance } from './suite';
import { vsphereAdapter } from './vsphere.adapter';

describeConformance(vsphereAdapter);
