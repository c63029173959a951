/* Generated from schemas/*.schema.json by `npm run gen:types`: do not edit by hand. */
/* eslint-disable */

/**
 * "<major>.<minor>", compared numerically; this server speaks 1.x.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "ProtocolVersion".
 */
export type ProtocolVersion = string
export type BatchResult = (BatchSuccess | BatchFailure)
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "ConstraintType".
 */
export type ConstraintType = ("root_path" | "effector_target" | "pose_keyframe" | "ground_height")
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "SegmentType".
 */
export type SegmentType = ("text" | "unconditioned" | "pose" | "motion_reference" | "video_reference")
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "GuidanceType".
 */
export type GuidanceType = ("nocfg" | "regular" | "separated")
/**
 * A joint or model name: UTF-8, NFC, 1-128 code points, no control characters, no leading/trailing white space.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Name".
 */
export type Name = string
/**
 * Rest position minus the parent's rest position, along world axes (for the root: its position).
 * 
 * @minItems 3
 * @maxItems 3
 */
export type Vec3 = [number, number, number]
/**
 * Local rest rotation [x, y, z, w]; identity when omitted. Non-identity rest rotations are honoured.
 * 
 * @minItems 4
 * @maxItems 4
 */
export type Quat = [number, number, number, number]
/**
 * A prompt: NFC, no control characters other than tab and line feed. Its maximum length is a model limit (max_prompt_length).
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Text".
 */
export type Text = string
/**
 * A BCP-47 language tag.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Language".
 */
export type Language = string
/**
 * An integer seed, or null for a fresh random one.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Seed".
 */
export type Seed = (number | null)
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Frame".
 */
export type Frame = number
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "FrameCount".
 */
export type FrameCount = number
/**
 * @minItems 2
 * @maxItems 2
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Vec2".
 */
export type Vec2 = [number, number]
/**
 * @minItems 3
 * @maxItems 3
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Vec3".
 */
export type Vec31 = [number, number, number]
/**
 * A rotation as a quaternion [x, y, z, w]; normalized by the server.
 * 
 * @minItems 4
 * @maxItems 4
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Quat".
 */
export type Quat1 = [number, number, number, number]
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Segment".
 */
export type Segment = (TextSegment | UnconditionedSegment | PoseSegment | MotionReferenceSegment | VideoReferenceSegment)
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Constraint".
 */
export type Constraint = (RootPathConstraint | EffectorTargetConstraint | PoseKeyframeConstraint | GroundHeightConstraint)
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "JobState".
 */
export type JobState = ("queued" | "running" | "succeeded" | "failed" | "cancelled")

export interface Wire {
BatchRequest?: BatchRequest
BatchResponse?: BatchResponse
Capabilities?: Capabilities
SegmentType?: SegmentType
ConstraintType?: ConstraintType
GuidanceType?: GuidanceType
ModelCapabilities?: ModelCapabilities
Limits?: Limits
ProtocolVersion?: ProtocolVersion
Name?: Name
Text?: Text
Language?: Language
Seed?: Seed
Frame?: Frame
FrameCount?: FrameCount
Vec2?: Vec2
Vec3?: Vec31
Quat?: Quat1
ErrorEnvelope?: ErrorEnvelope
MmcpError?: MmcpError
SupportDetail?: SupportDetail
GenerateRequest?: GenerateRequest
Timing?: Timing
Options?: Options
Guidance?: Guidance
Segment?: Segment
TextSegment?: TextSegment
UnconditionedSegment?: UnconditionedSegment
PoseSegment?: PoseSegment
MotionReferenceSegment?: MotionReferenceSegment
VideoReferenceSegment?: VideoReferenceSegment
Constraint?: Constraint
GroundHeightConstraint?: GroundHeightConstraint
RootPathConstraint?: RootPathConstraint
EffectorTargetConstraint?: EffectorTargetConstraint
PoseKeyframeConstraint?: PoseKeyframeConstraint
JobAccepted?: JobAccepted
JobState?: JobState
JobStatus?: JobStatus
MmcpMotion?: MmcpMotion
ServedBy?: ServedBy
MotionSample?: MotionSample
Skeleton?: Skeleton
Joint?: Joint
}
/**
 * POST /generate with several requests; items may omit protocol_version (they inherit the batch's). Each item is validated on its own: one item's failure does not fail the others. An empty requests list is refused whole with 422, as the reference server does.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "BatchRequest".
 */
export interface BatchRequest {
protocol_version: ProtocolVersion
/**
 * @minItems 1
 */
requests: [{

}, ...({

})[]]
extensions?: {

}
}
/**
 * One result per batch item, in order: a JSON glTF document or an error.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "BatchResponse".
 */
export interface BatchResponse {
results: BatchResult[]
}
export interface BatchSuccess {
gltf: {

}
}
export interface BatchFailure {
error: MmcpError
detail?: SupportDetail
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "MmcpError".
 */
export interface MmcpError {
/**
 * MMCP error code (clients must accept unknown codes).
 */
code: string
/**
 * Safe to show to end users.
 */
message: string
details: ({

} | null)
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "SupportDetail".
 */
export interface SupportDetail {
/**
 * Stable identifier of this exact failure (see docs/errors.md).
 */
error_code: string
message: string
/**
 * What the caller can do about it.
 */
action: string
}
/**
 * GET /capabilities: the models this server offers, their canonical skeletons and limits.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Capabilities".
 */
export interface Capabilities {
protocol_version: ProtocolVersion
rotation_format: "quaternion_xyzw"
coordinate_system: "right_handed_y_up"
units: "meters"
response_formats: ("gltf_2.0_json" | "gltf_2.0_binary")[]
models: ModelCapabilities[]
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "ModelCapabilities".
 */
export interface ModelCapabilities {
id: string
description?: string
provider?: string
fps: number
supports_retargeting: boolean
supports_async: boolean
supports_segment_seed: boolean
supports_loop: boolean
supports_trajectory: boolean
supports_batch: boolean
supports_motion_reference_mixed: boolean
supported_constraints: ConstraintType[]
supported_segments: SegmentType[]
supported_guidance_types: GuidanceType[]
predicted_contact_joints: string[]
native_clip_seconds: number
chunking: ("none" | "stitched")
recommended_max_duration_seconds: number
canonical_skeleton: Skeleton
limits: Limits
}
/**
 * A character skeleton: exactly one root, every parent listed before its children, names unique. Right-handed, +Y up, metres.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Skeleton".
 */
export interface Skeleton {
/**
 * @minItems 1
 * @maxItems 1024
 */
joints: [Joint, ...(Joint)[]]
coordinate_system?: "right_handed_y_up"
units?: "meters"
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Joint".
 */
export interface Joint {
name: Name
/**
 * The parent joint's name, or null for the root.
 */
parent: (Name | null)
rest_translation: Vec3
rest_rotation?: Quat
display_name?: string
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Limits".
 */
export interface Limits {
max_duration_seconds: number
max_num_samples: number
max_constraints_per_request: number
max_prompt_length: number
max_request_bytes: number
max_batch_size: number
/**
 * The most frames (T) a motion_reference clip may have. Advertised only by models that list motion_reference in supported_segments; configured with MAX_REFERENCE_FRAMES (see docs/limits.md).
 */
max_reference_frames?: number
max_video_bytes?: number
max_video_seconds?: number
/**
 * This gateway's addition: the highest timing.fps accepted (a higher one is 400 invalid_options). See docs/limits.md.
 */
x_max_fps?: number
/**
 * This gateway's addition: the largest answer, as GLB bytes, one request may ask for (joints × frames × samples; a JSON glTF answer is about a third larger). Estimated at admission; over it is 400 invalid_options. See docs/limits.md.
 */
x_max_output_bytes?: number
/**
 * This gateway's addition: the largest total of the items' answers (GLB bytes) one batch may ask for. See docs/limits.md.
 */
x_max_batch_output_bytes?: number
/**
 * This gateway's addition: the most joint-frames one request may ask the motion pipeline to compute (num_samples × frames × (skeleton joints + the model's joints)). See docs/limits.md.
 */
x_max_work?: number
}
/**
 * Every non-2xx answer: the MMCP view (error) and the support view (detail) of one error.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "ErrorEnvelope".
 */
export interface ErrorEnvelope {
error: MmcpError
detail: SupportDetail
}
/**
 * POST /generate: a skeleton plus segments and/or constraints. When segments is empty, duration_frames is required and at least one constraint must be given; when segments is non-empty, duration_frames is forbidden.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "GenerateRequest".
 */
export interface GenerateRequest {
protocol_version: ProtocolVersion
model: string
skeleton: Skeleton
/**
 * @maxItems 256
 */
segments?: Segment[]
/**
 * @maxItems 4096
 */
constraints?: Constraint[]
duration_frames?: FrameCount
timing?: Timing
options?: Options
extensions?: Extensions
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "TextSegment".
 */
export interface TextSegment {
type: "text"
prompt: Text
duration_frames: FrameCount
language?: Language
seed?: Seed
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "UnconditionedSegment".
 */
export interface UnconditionedSegment {
type: "unconditioned"
duration_frames: FrameCount
seed?: Seed
}
/**
 * A single pose from a prompt; exactly one frame; must be the only segment.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "PoseSegment".
 */
export interface PoseSegment {
type: "pose"
prompt: Text
language?: Language
duration_frames?: 1
seed?: Seed
}
/**
 * A clip as the prompt (1.2): per frame of the clip (T >= 2 frames at the clip's own fps, independent of duration_frames), the local rotation from rest of each joint_names entry and the root's world position. joint_names name joints of the segment's own skeleton when it carries one (the clip is retargeted from it), else of the request skeleton; they must include that skeleton's root.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "MotionReferenceSegment".
 */
export interface MotionReferenceSegment {
type: "motion_reference"
duration_frames: FrameCount
/**
 * @minItems 1
 * @maxItems 1024
 */
joint_names: [Name, ...(Name)[]]
/**
 * @minItems 2
 * @maxItems 100000
 */
rotations: [Quat1[], Quat1[], ...(Quat1[])[]]
/**
 * @minItems 2
 * @maxItems 100000
 */
root_positions: [Vec31, Vec31, ...(Vec31)[]]
fps: number
skeleton?: Skeleton
seed?: Seed
/**
 * Deprecated (first 1.2 drafts): accepted only as 0, and ignored.
 */
fidelity?: 0
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "VideoReferenceSegment".
 */
export interface VideoReferenceSegment {
type: "video_reference"
video: VideoSource
duration_frames?: FrameCount
start_s?: number
end_s?: number
fps?: number
seed?: Seed
}
/**
 * Exactly one of url (https) or data + media_type.
 */
export interface VideoSource {
url?: string
data?: string
media_type?: string
}
/**
 * The root follows positions_xz at frames (strictly ascending); heading 0 faces +Z, positive turns +Z toward -X. All arrays have equal lengths.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "RootPathConstraint".
 */
export interface RootPathConstraint {
type: "root_path"
/**
 * @minItems 1
 */
frames: [Frame, ...(Frame)[]]
/**
 * @minItems 1
 */
positions_xz: [Vec2, ...(Vec2)[]]
heading_radians?: number[]
}
/**
 * A joint reaches world positions (and optionally local rotations) at frames. All arrays have equal lengths.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "EffectorTargetConstraint".
 */
export interface EffectorTargetConstraint {
type: "effector_target"
joint: Name
/**
 * @minItems 1
 */
frames: [Frame, ...(Frame)[]]
/**
 * @minItems 1
 */
positions: [Vec31, ...(Vec31)[]]
rotations?: Quat1[]
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "PoseKeyframeConstraint".
 */
export interface PoseKeyframeConstraint {
type: "pose_keyframe"
frame: Frame
joint_rotations: {
[k: string]: Quat1
}
root_position?: Vec31
fill_mode?: ("generate" | "rest")
}
/**
 * 1.3, opt-in: the ground's height at places of the floor plane, each point [x, z, height] in the client's world frame (metres). Places, not frames: no frame range applies, and points far from the path are simply not reached. Honoured only by models that list ground_height in supported_constraints.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "GroundHeightConstraint".
 */
export interface GroundHeightConstraint {
type: "ground_height"
/**
 * @minItems 1
 * @maxItems 4096
 */
points: [Vec31, ...(Vec31)[]]
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Timing".
 */
export interface Timing {
fps: number
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Options".
 */
export interface Options {
diffusion_steps?: number
num_samples?: number
seed?: Seed
post_processing?: boolean
transition_frames?: number
guidance?: Guidance
loop?: boolean
}
/**
 * weight has 0 entries for nocfg, 1 for regular, 2 for separated.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "Guidance".
 */
export interface Guidance {
type: ("nocfg" | "regular" | "separated")
/**
 * @maxItems 2
 */
weight?: []|[number]|[number, number]
}
/**
 * Provider-specific knobs, keyed by provider name (e.g. {"saymotion": {"footLockingMode": "always"}, "meshy": {"action_id": 4}}). Unknown providers' keys are ignored.
 */
export interface Extensions {
[k: string]: {

}
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "JobAccepted".
 */
export interface JobAccepted {
job_id: string
submitted_at: string
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "JobStatus".
 */
export interface JobStatus {
job_id: string
state: JobState
model: string
/**
 * This gateway's addition: the model serving the job now (a route's current target) and its provider.
 */
served_by?: {
model: string
provider: string
}
/**
 * 0-1 when known.
 */
progress: (number | null)
/**
 * Jobs ahead of this one (in the gateway's queue or the provider's), when known.
 */
queue_position: (number | null)
retry_after_s?: number
created_at: string
started_at: (string | null)
updated_at: string
finished_at: (string | null)
/**
 * When the result will be forgotten (404 afterwards).
 */
expires_at: (string | null)
error?: ErrorEnvelope
}
/**
 * The MMCP_motion glTF extension carried by every answer; x_-prefixed fields are this gateway's additions.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "MmcpMotion".
 */
export interface MmcpMotion {
version: ProtocolVersion
model: string
fps: number
canonical_to_request?: ({
[k: string]: string
} | null)
samples: MotionSample[]
/**
 * This gateway's addition: the request fields it did not know and ignored, as paths (e.g. "segments[0].foo"). Only a request of a newer minor protocol version than the one served has any (a request of the served minor or an older one is refused with 422 for an unknown field). The same list is sent in the X-MMCP-Ignored-Fields response header.
 */
x_ignored_fields?: string[]
x_served_by?: ServedBy
}
/**
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "MotionSample".
 */
export interface MotionSample {
name: string
num_frames: number
chunk_boundaries: number[]
foot_contacts: ({
[k: string]: boolean[]
} | null)
trajectory?: {

}
/**
 * Per segment: what the model understood of the prompt.
 */
x_understood?: {

}[]
/**
 * Per constraint: the residual error after post-processing.
 */
x_constraint_residuals?: {

}[]
/**
 * This gateway's addition, on rigs with a floor-level root (Unreal's root above pelvis) or IK helper bones: the root joint kept on the floor under the pelvis with the travel and heading, the joints given a translation channel of their own (the pelvis carries the bob), and what each helper bone follows (docs/rigs.md).
 */
x_root_motion?: {
root?: string
translated?: string[]
followers?: {
[k: string]: string
}
}
}
/**
 * This gateway's addition: who served the answer. For a route (MODEL_ROUTES, README.md Routes) the target that did, with the targets tried before it; for any other model the model itself (attempts empty). The X-Served-By response header names the same model.
 * 
 * This interface was referenced by `Wire`'s JSON-Schema
 * via the `definition` "ServedBy".
 */
export interface ServedBy {
/**
 * The model that served the request (a route's target).
 */
model: string
provider: string
/**
 * Targets passed over, in order: not ready, or refused with an error that falls back.
 */
attempts: {
model: string
/**
 * The MMCP error code (e.g. model_unavailable).
 */
error_code: string
/**
 * The gateway error id (e.g. MG-PRV-503).
 */
error_id: string
}[]
}
