-- the error of a task whose stored record cannot be used (`why`): it ends QTASKS_ERR_BAD_RECORD
local function badErr(id, why)
  return cjson.encode({ name = 'BadRecordError', code = 'QTASKS_ERR_BAD_RECORD',
    message = 'The stored record of task ' .. cjson.encode(id) .. ' cannot be used (' .. why .. '), so the task ends here and never runs again: inspect or remove it, then add the task again' })
end
