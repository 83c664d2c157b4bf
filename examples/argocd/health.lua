-- Argo CD health check for lake.sparkify.io/SparkifyLakeJob.
-- Install it under resource.customizations.health.lake.sparkify.io_SparkifyLakeJob in argocd-cm
-- (see argocd-cm.yaml beside this file). It reads only the status the operator writes:
--   Healthy      the current run committed (phase Succeeded)
--   Degraded     the run failed, or the spec/Secret/bucket is Invalid
--   Suspended    spec.suspend is true
--   Progressing  anything else, including a status that does not yet describe the latest generation
local hs = {}

local function condition(status, t)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == t then
      return c
    end
  end
  return nil
end

if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to pick up the lake job"
  return hs
end

local status = obj.status
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local invalid = condition(status, "Invalid")
if invalid ~= nil and invalid.status == "True" then
  hs.status = "Degraded"
  hs.message = (invalid.reason or "Invalid") .. ": " .. (invalid.message or "")
  return hs
end

if status.phase == "Failed" then
  local failed = condition(status, "Failed")
  hs.status = "Degraded"
  if failed ~= nil and failed.message ~= nil and failed.message ~= "" then
    -- The first line names the failure; the shard details and log lines follow in kubectl describe.
    hs.message = (failed.reason or "Failed") .. ": " .. string.match(failed.message, "^[^\n]*")
  else
    hs.message = "Run " .. tostring(status.runId) .. " failed"
  end
  return hs
end

local suspended = condition(status, "Suspended")
if suspended ~= nil and suspended.status == "True" and status.phase ~= "Succeeded" then
  hs.status = "Suspended"
  hs.message = "Suspended (spec.suspend is true) in phase " .. status.phase
  return hs
end

if status.phase == "Succeeded" then
  hs.status = "Healthy"
  local ok = condition(status, "Succeeded")
  if ok ~= nil and ok.message ~= nil and ok.message ~= "" then
    hs.message = ok.message
  else
    hs.message = "Run " .. tostring(status.runId) .. " committed"
  end
  return hs
end

hs.status = "Progressing"
if status.progress ~= nil then
  hs.message = status.phase .. " " .. status.progress
else
  hs.message = status.phase
end
return hs
